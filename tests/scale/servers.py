"""Real servers for the scale-out tests: ``chroma run``, a PostgreSQL cluster, API processes (uvicorn).

Each runs as a subprocess on a free port of 127.0.0.1 with its output in a log file, and is stopped
by the fixture that started it, by its own process id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
ADMIN_KEY = "scale-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
INDEX_REFRESH_S = 1.0
CHROMA_TIMEOUT_S = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _stop(proc: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


class ChromaServer:
    """``chroma run --path PATH --port PORT``; can be paused, stopped and started again on the same port."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.parent / f"chroma-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> ChromaServer:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([str(VENV_BIN / "chroma"), "run", "--path", str(self.path), "--host",
                                          "127.0.0.1", "--port", str(self.port)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chroma run exited: {tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"chroma run did not answer its heartbeat: {tail(self.log)}")

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung server)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGCONT)  # a paused server cannot handle SIGTERM
            _stop(self.proc)


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise AssertionError("PostgreSQL's server programs are missing: apt-get install -y postgresql")


class PostgresServer:
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) listening on 127.0.0.1:PORT, trust auth.

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` user (runuser).
    Its folder is made under the system temp dir, which that user can reach (pytest's is private).
    """

    user = "ctn"
    database = "ctn"

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.base = Path(tempfile.mkdtemp(prefix="ctn-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.base, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 120.0) -> None:
        command = [*(["runuser", "-u", "postgres", "--"] if self._as_postgres else []), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.base)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}{tail(self.log)}")

    def start(self) -> PostgresServer:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "--encoding=UTF8", "--no-locale")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                  self.database)
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


class ApiProcess:
    """``uvicorn --factory api.app:create_app`` with its own data dir, on its own port."""

    def __init__(self, name: str, base: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = base / name
        self.log = base / f"{name}.log"
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                    "ANONYMIZED_TELEMETRY": "False", "CTN_DATA_DIR": str(self.data_dir),
                    "CTN_ADMIN_API_KEY": ADMIN_KEY, "CTN_INDEX_REFRESH_S": str(INDEX_REFRESH_S),
                    "CTN_CHROMA_TIMEOUT_S": str(CHROMA_TIMEOUT_S), "CTN_TORCH_THREADS": "1", **env}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def start(self) -> ApiProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "python"), "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout_s: float = 180.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"API process {self.name} exited: {tail(self.log)}")
            try:
                response = self.client.get("/readyz", timeout=10)
                last = response.text
                if response.status_code == 200:
                    return response.json()
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise AssertionError(f"API process {self.name} never became ready: {last}\n{tail(self.log)}")

    def stop(self) -> None:
        self.client.close()
        if self.proc is not None:
            _stop(self.proc, timeout=30)


def poll(check: Any, deadline_s: float, interval_s: float = 0.2) -> tuple[Any, float]:
    """Call ``check()`` until it returns something truthy; (that value, seconds it took). Fails at the deadline."""
    started = time.monotonic()
    last: Any = None
    while time.monotonic() - started < deadline_s:
        last = check()
        if last:
            return last, time.monotonic() - started
        time.sleep(interval_s)
    raise AssertionError(f"not true within {deadline_s:.1f} s (last: {last!r})")
