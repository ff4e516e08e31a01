"""Schemathesis over the OpenAPI schema, against a real server: whatever the input, never a 500."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY, LiveServer


@pytest.mark.slow
def test_no_input_makes_the_server_fail(live_server: LiveServer, tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis (the test extra) must be installed: its `st` command is missing"
    result = subprocess.run(
        [st, "run", f"{live_server.url}/openapi.json", "--checks", "not_a_server_error",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "8", "--max-time", "45", "--seed", "7",
         "--workers", "1", "--request-timeout", "30", "--no-shrink", "--warnings", "off",
         "-H", f"Authorization: Bearer {ADMIN_KEY}"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
