from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "emails"

# Environment variables that would change what the tool does; tests start from none of them.
_ENV = (
    "ASSISTANT_CONFIG",
    "ASSISTANT_BACKEND",
    "ASSISTANT_MODEL",
    "ASSISTANT_REDACT",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "ASSISTANT_AUDIT_DB",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in _ENV:
        monkeypatch.delenv(var, raising=False)
    yield


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(
    *args: str,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run the real command line in a subprocess, as an agent or a script would."""
    full_env = {k: v for k, v in os.environ.items() if k not in _ENV}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def cli() -> type[Run]:
    return Run
