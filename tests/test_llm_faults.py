"""The openai backend against a scripted fake server: every fault is retried or reported clearly."""

from __future__ import annotations

import asyncio
import email.utils
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import assistant
from assistant import BackendError, Settings
from assistant.llm import run_sync

from conftest import EXAMPLES, llm_assistant, run_cli
from fake_openai import FakeOpenAI, Fault

EMAIL = (EXAMPLES / "01-lost-parcel.txt").read_text()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _assistant(fake: FakeOpenAI, **llm: object) -> tuple[assistant.Assistant, list[float]]:
    settings = Settings.model_validate(
        {
            "backend": "openai",
            "llm": {"base_url": fake.base_url, "model": "fake-model", "timeout": 2, **llm},
        }
    )
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)  # the backoff is measured, not waited

    return llm_assistant(settings, sleep=record_sleep), waits


def test_one_call_drafts_and_classifies(fake: FakeOpenAI) -> None:
    fake.classification = {**fake.classification, "category": "shipping_delay"}
    helper, _ = _assistant(fake)
    result = helper.draft(EMAIL)
    assert result.backend == "openai" and result.model == "fake-model"
    assert result.reply.startswith("Hi Priya")
    assert result.lint.ok and result.revisions == 0
    assert len(fake.requests) == 1  # classification, meta-goal and reply in one answer
    assert result.classification.category.value == "shipping_delay"  # the model's, not the hint's
    assert result.usage is not None and result.usage.total_tokens == 150
    body = fake.requests[0].body
    schema = body["response_format"]["json_schema"]["schema"]["properties"]
    assert body["response_format"]["type"] == "json_schema"
    assert next(iter(schema)) == "category" and list(schema)[-1] == "reply"
    system, user = (m["content"] for m in body["messages"])
    # Static text first: the guidelines and policy are in the system prompt, the email after.
    assert "How we answer complaints" in system and "tablecloth" not in system
    # The email is delimited as untrusted data, beside the offline reading as a hint.
    assert "<customer_email>" in user and "tablecloth" in user
    assert "category: lost_or_missing" in user


def test_separate_classification_is_two_calls(fake: FakeOpenAI) -> None:
    fake.classification = {**fake.classification, "category": "shipping_delay"}
    helper, _ = _assistant(fake, classify="separate")
    result = helper.draft(EMAIL)
    assert len(fake.requests) == 2
    first, second = (r.body["response_format"]["json_schema"]["name"] for r in fake.requests)
    assert (first, second) == ("LLMClassification", "DraftOutput")
    assert result.classification.category.value == "shipping_delay"
    assert "category: shipping_delay" in fake.requests[1].body["messages"][1]["content"]
    assert result.usage is not None and result.usage.total_tokens == 300


def test_client_retries_are_off_and_tenacity_honours_retry_after(fake: FakeOpenAI) -> None:
    fake.then(Fault("status", 429, headers={"Retry-After": "7"}), Fault("status", 503))
    helper, waits = _assistant(fake)
    result = helper.draft(EMAIL)
    assert len(fake.requests) == 3  # 429, 503, then the draft
    assert waits[0] == 7.0
    assert 0 < waits[1] < 7
    assert (
        result.usage is not None and result.usage.total_tokens == 150
    )  # failed attempts cost nothing


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ({"retry-after-ms": "1500"}, 1.5, 1.5),
        ({"Retry-After": "2.5"}, 2.5, 2.5),
        # An HTTP date ten seconds ahead (whole seconds, so 9 to 10 s from now).
        ({"Retry-After": "in 10 s"}, 8.5, 10.0),
    ],
)
def test_retry_after_in_every_form_is_the_wait(
    fake: FakeOpenAI, header: dict[str, str], low: float, high: float
) -> None:
    if header.get("Retry-After") == "in 10 s":
        header = {"Retry-After": email.utils.formatdate(time.time() + 10, usegmt=True)}
    fake.then(Fault("status", 429, headers=header))
    helper, waits = _assistant(fake)
    assert helper.draft(EMAIL).lint.ok
    assert len(waits) == 1 and low <= waits[0] <= high


def test_hang_past_the_timeout_is_retried(fake: FakeOpenAI) -> None:
    fake.then(Fault("hang", seconds=1.5))
    helper, waits = _assistant(fake, timeout=0.5)
    assert helper.draft(EMAIL).lint.ok
    assert len(waits) == 1


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (
            [Fault("status", 429, headers={"Retry-After": "0"})] * 3,
            "kept rate-limiting the request (429) after 3 attempts",
        ),
        ([Fault("status", 401)], "refused the API key (401)"),
        ([Fault("status", 404)], "has no model named fake-model (404)"),
        ([Fault("status", 500)] * 3, "failed with HTTP 500 after 3 attempts"),
        (
            [Fault("refusal", content="I cannot help with that.")],
            "refused to answer: I cannot help",
        ),
        ([Fault("length")] * 3, "cut off at 1200 tokens"),
        (
            [Fault("content", content="not json at all")] * 3,
            "did not return a valid answer after 3 tries",
        ),
        (
            [Fault("page", content="<html><body>Sign in to the Wi-Fi</body></html>")] * 3,
            "did not return a valid answer after 3 tries (the server's answer was not a chat completion)",
        ),
    ],
)
def test_failures_are_one_clear_sentence(
    fake: FakeOpenAI, faults: list[Fault], message: str
) -> None:
    fake.then(*faults)
    helper, _ = _assistant(fake, max_attempts=3)
    with pytest.raises(BackendError, match=message.replace("(", r"\(").replace(")", r"\)")):
        helper.draft(EMAIL)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_an_answer_past_the_byte_cap_is_cut_off_unread(fake: FakeOpenAI, streamed: bool) -> None:
    # A broken or hostile server ignores max_tokens and sends megabytes: the read stops at the
    # cap, with one sentence, and the same answer is not asked for again.
    fake.then(Fault("content", content="x" * 1_000_000))
    helper, _ = _assistant(fake, max_answer_bytes=100_000)
    streamed_text: list[str] = []
    with pytest.raises(BackendError, match=r"ran past 100,000 bytes \(llm\.max_answer_bytes\)"):
        if streamed:
            helper.draft(EMAIL, stream=streamed_text.append)
        else:
            helper.classify(EMAIL)
    assert len(fake.requests) == 1


def test_timeouts_exhausted(fake: FakeOpenAI) -> None:
    fake.then(*[Fault("hang", seconds=1.0)] * 2)
    helper, _ = _assistant(fake, timeout=0.3, max_attempts=2)
    with pytest.raises(BackendError, match=r"did not answer within 0.3 s \(2 attempts\)"):
        helper.classify(EMAIL)


def test_retrying_stops_at_the_total_time_bound_counting_the_first_attempt(
    fake: FakeOpenAI,
) -> None:
    # Each attempt times out after 0.3 s (the backoff is recorded, not waited): 0.3 s is inside
    # the 0.5 s bound, so a second attempt goes out; 0.6 s is past it, so there is no third.
    fake.then(*[Fault("hang", seconds=1.0)] * 5)
    helper, waits = _assistant(fake, timeout=0.3, max_attempts=5, max_retry_seconds=0.5)
    with pytest.raises(BackendError, match=r"did not answer within 0.3 s \(2 attempts\)"):
        helper.classify(EMAIL)
    assert len(waits) == 1


@pytest.mark.parametrize("bad", [Fault("content", content="{oops"), Fault("content", content="")])
def test_malformed_or_empty_answers_are_asked_again(fake: FakeOpenAI, bad: Fault) -> None:
    fake.then(bad)
    helper, _ = _assistant(fake)
    c = helper.classify(EMAIL)
    assert c.category == "lost_or_missing" and c.backend == "openai"
    assert len(fake.requests) == 2
    reask = fake.requests[1].body["messages"][-1]["content"]
    assert "not valid" in reask


def test_unreachable_endpoint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    settings = Settings.model_validate(
        {"backend": "openai", "llm": {"base_url": f"http://127.0.0.1:{port}/v1", "max_attempts": 2}}
    )

    async def no_wait(_: float) -> None:
        pass

    helper = llm_assistant(settings, sleep=no_wait)
    with pytest.raises(
        BackendError,
        match=rf"Cannot reach the LLM endpoint at http://127.0.0.1:{port}/v1 \(2 attempts\)",
    ):
        helper.draft(EMAIL)


def test_server_without_json_schema_falls_back_to_json_object(fake: FakeOpenAI) -> None:
    fake.then(
        Fault(
            "status",
            500,
            body={
                "error": {
                    "message": "response_format.type: Input should be 'text' or 'json_object'"
                }
            },
        )
    )
    helper, waits = _assistant(fake)
    helper.draft(EMAIL)
    helper.draft(EMAIL)
    kinds = [r.body["response_format"]["type"] for r in fake.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered after stepping down
    assert helper.backend.client.mode == "json_object"  # type: ignore[attr-defined]
    assert "schema" in fake.requests[1].body["response_format"]
    assert waits == []  # a refused format is not a transient fault


def test_lint_errors_go_back_for_revision(fake: FakeOpenAI) -> None:
    good = dict(fake.draft)
    fake.draft = {
        "meta_goal": good["meta_goal"],
        "reply": "Our records show it was delivered. " + good["reply"],
    }
    helper, _ = _assistant(fake, max_revisions=2)
    first = helper.draft(EMAIL)
    assert first.revisions == 2 and not first.lint.ok  # still failing: returned with its findings
    assert [f.rule for f in first.lint.errors()] == ["doubt-our-records"]
    revise = fake.requests[1].body["messages"][-1]["content"]
    assert "doubt-our-records" in revise and "Our records show" in revise

    fake.requests.clear()
    calls = {"n": 0}
    original = fake.answer_for

    def improving(body: dict[str, object]) -> dict[str, object]:
        answer = original(body)
        if "meta_goal" in answer:
            calls["n"] += 1
            return answer if calls["n"] == 1 else good
        return answer

    fake.answer_for = improving  # type: ignore[method-assign]
    second = helper.draft(EMAIL)
    assert second.revisions == 1 and second.lint.ok and second.reply == good["reply"]
    assert second.usage is not None and second.usage.total_tokens == 300


def test_streaming_passes_the_reply_text_as_it_arrives(fake: FakeOpenAI) -> None:
    helper, _ = _assistant(fake)
    pieces: list[str] = []
    result = helper.draft(EMAIL, stream=pieces.append)
    assert "".join(pieces) == result.reply
    assert len(pieces) > 3
    assert fake.requests[0].body["stream"] is True
    assert result.usage is not None and result.usage.total_tokens == 150


def test_async_draft(fake: FakeOpenAI) -> None:
    import asyncio

    helper, _ = _assistant(fake)
    result = asyncio.run(helper.adraft(EMAIL))
    assert result.backend == "openai" and result.lint.ok


def test_cli_with_environment_and_flag(fake: FakeOpenAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"OPENAI_BASE_URL": fake.base_url, "ASSISTANT_MODEL": "fake-model"}
    r = run_cli(
        "draft",
        "--format",
        "json",
        str(EXAMPLES / "01-lost-parcel.txt"),
        env={**env, "ASSISTANT_BACKEND": "openai"},
    )
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["backend"] == "openai" and data["usage"]["total_tokens"] == 150

    r = run_cli("classify", "--backend", "openai", str(EXAMPLES / "01-lost-parcel.txt"), env=env)
    assert r.code == 0 and "lost_or_missing" in r.out


def test_cli_failure_keeps_the_pasted_email(fake: FakeOpenAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake.then(Fault("status", 401))
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "ASSISTANT_BACKEND": "openai",
        "ASSISTANT_DATA_DIR": str(tmp_path),
    }
    r = run_cli("draft", "-", stdin=EMAIL.encode(), env=env)
    assert r.code == 1
    assert r.err.startswith("error: ") and "refused the API key (401)" in r.err
    assert "Traceback" not in r.err
    (kept,) = (tmp_path / "unsent").iterdir()
    assert kept.read_text() == EMAIL
    assert kept.stat().st_mode & 0o077 == 0  # a customer's email: this user's only
    assert str(kept) in r.err


def test_no_key_for_the_default_openai_endpoint_is_a_config_error() -> None:
    helper = assistant.Assistant(Settings(backend="openai"))
    with pytest.raises(assistant.ConfigError, match="OPENAI_API_KEY"):
        helper.classify(EMAIL)


def test_sync_drafts_reuse_one_kept_alive_connection(fake: FakeOpenAI) -> None:
    helper, _ = _assistant(fake)
    helper.draft(EMAIL)
    helper.draft(EMAIL)
    assert len(fake.requests) == 2
    assert len({r.client_port for r in fake.requests}) == 1


def test_a_sync_draft_works_from_inside_a_running_event_loop(fake: FakeOpenAI) -> None:
    helper, _ = _assistant(fake)

    async def notebook_cell() -> str:
        return helper.draft(EMAIL).reply  # sync API called from async code, as in Jupyter

    assert asyncio.run(notebook_cell()).startswith("Hi Priya")
    assert helper.draft(EMAIL).reply.startswith("Hi Priya")  # and from plain code afterwards


def test_an_interrupted_sync_call_never_carries_on_inside_the_next() -> None:
    ticks: list[int] = []

    async def slow() -> None:
        for i in range(500):
            ticks.append(i)
            await asyncio.sleep(0.01)

    async def quick() -> str:
        await asyncio.sleep(0.1)
        return "quick"

    # A shell without job control starts background jobs (CI) with SIGINT ignored: Ctrl-C must
    # mean KeyboardInterrupt here, as it does at a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    ctrl_c = threading.Timer(
        0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)
    )
    try:
        ctrl_c.start()
        with pytest.raises(KeyboardInterrupt):
            run_sync(slow())
    finally:
        ctrl_c.cancel()
        signal.signal(signal.SIGINT, previous)
    seen = len(ticks)
    assert run_sync(quick()) == "quick"
    assert len(ticks) == seen  # the interrupted call did not wake up again
