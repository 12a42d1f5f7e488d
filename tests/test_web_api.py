"""The JSON API through the ASGI test client: the same pipeline, review and audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import assistant
from assistant import Settings
from assistant.web import access_token, create_app

from conftest import EXAMPLES
from fake_openai import FakeOpenAI, Fault

BAD = "Our records show it was delivered, so there is nothing we can do."


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    helper = assistant.Assistant(Settings(audit_db=tmp_path / "audit.sqlite3", agent="web"))
    return TestClient(create_app(helper), base_url="http://127.0.0.1:8000")


def _draft(client: TestClient) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/draft", json={"email": (EXAMPLES / "04-broken-kettle.txt").read_text()})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_classify_draft_lint_approve_and_history(client: TestClient) -> None:
    c = client.post("/api/classify", json={"email": "My parcel never arrived."}).json()
    assert c["category"] == "lost_or_missing"
    data = _draft(client)
    assert (
        data["result"]["classification"]["category"] == "damaged_or_defective"
        and data["result"]["lint"]["ok"]
    )
    lint = client.post("/api/lint", json={"text": BAD, "record_id": data["record_id"]}).json()
    assert {f["rule"] for f in lint["findings"]} >= {
        "doubt-our-records",
        "stonewall-nothing-we-can-do",
    }
    refused = client.post("/api/approve", json={"record_id": data["record_id"], "reply": BAD})
    assert refused.status_code == 409 and "Approval refused" in refused.json()["error"]
    record = client.post(
        "/api/approve",
        json={
            "record_id": data["record_id"],
            "reply": BAD,
            "override_reason": "lead said so",
            "dismissed": [
                {
                    "rule": "doubt-our-records",
                    "text": "Our records show",
                    "reason": "asked for the scan",
                }
            ],
        },
    ).json()
    assert record["decision"] == "approved" and record["override_reason"] == "lead said so"
    assert record["dismissed"][0]["reason"] == "asked for the scan"
    history = client.get("/api/history").json()
    assert [r["id"] for r in history] == [record["id"]]
    assert "Decisions" in client.get("/history").text


def test_reject_and_regenerate(client: TestClient) -> None:
    data = _draft(client)
    again = client.post("/api/regenerate", json={"record_id": data["record_id"]}).json()
    assert again["record_id"] == data["record_id"] and again["result"]["reply"]
    record = client.post(
        "/api/reject", json={"record_id": data["record_id"], "reason": "duplicate"}
    ).json()
    assert record["decision"] == "rejected"
    gone = client.post("/api/approve", json={"record_id": data["record_id"], "reply": "x"})
    assert gone.status_code == 400 and "draft it again" in gone.json()["error"]


def test_errors_are_clear_status_codes(client: TestClient, tmp_path: Path) -> None:
    assert client.post("/api/draft", json={"email": "   "}).status_code == 400
    invalid = client.post(
        "/api/draft", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert invalid.status_code == 422 and invalid.json()["error"].startswith(
        "The request is not valid"
    )
    missing = client.post("/api/draft", json={"mail": "x"})
    assert missing.status_code == 422 and "email" in missing.json()["error"]
    huge = client.post("/api/draft", json={"email": "x" * 4_100_000})
    assert huge.status_code == 413 and "limit" in huge.json()["error"]
    offline_llm = Settings.model_validate(
        {
            "backend": "openai",
            "audit_db": str(tmp_path / "a.sqlite3"),
            "llm": {"base_url": "http://127.0.0.1:9/v1", "max_attempts": 1},
        }
    )
    down = TestClient(
        create_app(assistant.Assistant(offline_llm)), base_url="http://127.0.0.1:8000"
    ).post("/api/draft", json={"email": "My order is late."})
    assert down.status_code == 503 and "Cannot reach the LLM endpoint" in down.json()["error"]


@pytest.mark.parametrize(
    ("fault", "status", "words"),
    [
        (Fault("status", 429, headers={"Retry-After": "0"}), 429, "rate-limiting"),
        (Fault("status", 401), 502, "refused the API key"),
        (Fault("status", 404), 502, "has no model named"),
        (Fault("hang", seconds=1.0), 504, "did not answer within"),
        (Fault("content", content="not json at all"), 502, "did not return a valid answer"),
    ],
)
def test_each_model_failure_has_its_own_status(
    tmp_path: Path, fault: Fault, status: int, words: str
) -> None:
    with FakeOpenAI() as fake:
        fake.then(*[fault] * 3)
        settings = Settings.model_validate(
            {
                "backend": "openai",
                "audit_db": str(tmp_path / "a.sqlite3"),
                "llm": {
                    "base_url": fake.base_url,
                    "max_attempts": 1,
                    "max_reasks": 0,
                    "timeout": 0.3,
                },
            }
        )
        answer = TestClient(
            create_app(assistant.Assistant(settings)), base_url="http://127.0.0.1:8000"
        ).post("/api/draft", json={"email": "My order is late."})
    assert answer.status_code == status and words in answer.json()["error"]


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/classify", "/api/draft", "/api/lint", "/api/approve", "/api/history"} <= set(
        spec["paths"]
    )
    assert (
        "DraftResult" in spec["components"]["schemas"]
        and "LintReport" in spec["components"]["schemas"]
    )


def test_token_required_beyond_loopback(tmp_path: Path) -> None:
    assert access_token("127.0.0.1", None) is None
    token = access_token("0.0.0.0", None)
    assert token and access_token("0.0.0.0", "configured") == "configured"
    helper = assistant.Assistant(Settings(audit_db=tmp_path / "a.sqlite3"))
    client = TestClient(create_app(helper, token=token), base_url="http://127.0.0.1:8000")
    assert client.post("/api/lint", json={"text": "hi"}).status_code == 401
    assert client.get("/").status_code == 401
    assert (
        client.post(
            "/api/lint", json={"text": "hi"}, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    assert client.get(f"/?token={token}").status_code == 200
    assert client.get("/static/app.js").status_code == 200  # assets hold no data


def test_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/").text
    assert "static/app.js" in page and "http://" not in page and "https://" not in page
    assert "Content-Security-Policy" in client.get("/").headers


def test_concurrent_drafts_share_the_audit_log_safely(client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    email = (EXAMPLES / "13-late-delivery.txt").read_text()
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(
            pool.map(
                lambda _: client.post("/api/draft", json={"email": email}).status_code, range(24)
            )
        )
    assert codes == [200] * 24
    assert len(client.get("/api/history", params={"limit": 100}).json()) == 24


@pytest.mark.parametrize("model", ["offline", "unreachable"])
def test_serve_command_serves_the_page_and_the_api(tmp_path: Path, model: str) -> None:
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from conftest import ROOT, _free_port

    port = _free_port()
    env = {**os.environ, "ASSISTANT_AUDIT_DB": str(tmp_path / "audit.sqlite3")}
    config = tmp_path / "assistant.toml"
    config.write_text("")
    if model == "unreachable":  # the model down at start: the page and lint still serve
        config.write_text(
            'backend = "openai"\n[llm]\nbase_url = "http://127.0.0.1:9/v1"\nmax_attempts = 1\n'
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--config", str(config), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline().strip() == f"Serving on {base}/"  # loopback: no token
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(base + "/", timeout=2).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        assert "Reply assistant" in page
        request = urllib.request.Request(
            base + "/api/lint",
            data=json.dumps({"text": BAD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        report = json.load(urllib.request.urlopen(request, timeout=10))
        assert report["ok"] is False and report["findings"]
        if model == "unreachable":  # reported per request, and the server carries on
            draft = urllib.request.Request(
                base + "/api/draft",
                data=json.dumps({"email": "My order is late."}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as failed:
                urllib.request.urlopen(draft, timeout=30)
            assert failed.value.code == 503
            assert "Cannot reach the LLM endpoint" in json.load(failed.value)["error"]
            assert proc.poll() is None
            assert json.load(urllib.request.urlopen(request, timeout=10))["findings"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_loopback_address_is_loopback() -> None:
    assert access_token("127.0.0.2", None) is None and access_token("localhost", None) is None
    assert access_token("::1", None) is None
    # Names that merely start like loopback resolve wherever their owner likes: a token.
    for host in ("192.168.1.5", "127.attacker.example", "127.0.0.1.nip.io", "localhost.example"):
        assert access_token(host, None) is not None, host


def test_redaction_treats_only_loopback_addresses_as_this_machine() -> None:
    from assistant.loopback import is_loopback_url

    assert is_loopback_url("http://127.0.0.1:8080/v1") and is_loopback_url("http://[::1]:8080/v1")
    assert not is_loopback_url("http://127.0.0.1.nip.io/v1")
    assert not is_loopback_url("https://127.attacker.example/v1")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("[::1]:8000", True),
        ("attacker.example", False),
        ("127.0.0.1.nip.io:8000", False),
        ("127.attacker.example", False),
    ],
)
def test_on_loopback_only_this_machines_names_are_answered(
    client: TestClient, host: str, allowed: bool
) -> None:
    answer = client.get("/api/history", headers={"Host": host})
    assert (answer.status_code == 200) is allowed
    if not allowed:
        assert answer.status_code == 403 and "answers only to" in answer.json()["error"]


def test_configured_names_are_answered_too(tmp_path: Path) -> None:
    settings = Settings(audit_db=tmp_path / "a.sqlite3", web_hosts=["assistant.internal"])
    client = TestClient(create_app(assistant.Assistant(settings)), base_url="http://127.0.0.1:8000")
    assert (
        client.get("/api/history", headers={"Host": "assistant.internal:8000"}).status_code == 200
    )
    assert client.get("/api/history", headers={"Host": "other.internal"}).status_code == 403


def test_a_post_from_another_sites_page_is_refused(client: TestClient) -> None:
    body = {"text": "I'm sorry; I've refunded you today."}
    same = client.post("/api/lint", json=body, headers={"Origin": "http://127.0.0.1:8000"})
    other = client.post("/api/lint", json=body, headers={"Origin": "http://attacker.example"})
    assert same.status_code == 200
    assert other.status_code == 403 and "another site" in other.json()["error"]


def test_a_chunked_body_past_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(50):
            yield b"x" * 100_000  # 5 MB in all, with no length given up front
        yield b'"}'

    answer = client.post(
        "/api/draft", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413 and "limit" in answer.json()["error"]


@pytest.mark.parametrize("query", ["limit=9999", "limit=0", "limit=x", "since=yesterday"])
def test_a_bad_history_parameter_is_a_4xx_with_one_sentence(client: TestClient, query: str) -> None:
    answer = client.get(f"/api/history?{query}")
    assert 400 <= answer.status_code < 500 and answer.json()["error"].endswith(".")


def test_open_drafts_are_bounded_and_an_evicted_one_is_still_in_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import web

    monkeypatch.setattr(web, "MAX_OPEN_REVIEWS", 2)
    helper = assistant.Assistant(Settings(audit_db=tmp_path / "a.sqlite3"))
    client = TestClient(create_app(helper), base_url="http://127.0.0.1:8000")
    first = client.post("/api/draft", json={"email": "My lamp arrived broken."}).json()["record_id"]
    kept = [
        client.post("/api/draft", json={"email": "My parcel never came."}).json()["record_id"]
        for _ in range(2)
    ]
    assert (
        client.post("/api/reject", json={"record_id": kept[-1], "reason": "x"}).status_code == 200
    )
    gone = client.post("/api/reject", json={"record_id": first, "reason": "late"})
    assert gone.status_code == 400 and "draft it again" in gone.json()["error"]
    assert first in {r["id"] for r in client.get("/api/history?decision=pending").json()}


def test_lint_reads_a_given_complaint_when_no_draft_is_open(client: TestClient) -> None:
    reply = "I'm sorry to hear that. Our flights departed on time today."
    complaint = "My flight BA279 was 3 hours late and I missed my connection."
    alone = client.post("/api/lint", json={"text": reply}).json()
    beside = client.post("/api/lint", json={"text": reply, "email": complaint}).json()
    assert "doubt-contradicts-customer" not in {f["rule"] for f in alone["findings"]}
    assert "doubt-contradicts-customer" in {f["rule"] for f in beside["findings"]}
    assert client.post("/api/lint", json={"text": reply, "email": " "}).status_code == 400


def test_live_relint_of_a_draft_holds_it_to_the_gate_as_approval_will(client: TestClient) -> None:
    data = _draft(client)
    reply = data["result"]["reply"] + "\n\nOr call our returns desk on 1-888-907-0345."

    def phone_severity(body: dict) -> list[str]:  # type: ignore[type-arg]
        found = client.post("/api/lint", json=body).json()["findings"]
        return [f["severity"] for f in found if f["rule"] == "unlisted-phone"]

    # The page re-lints the draft under review: the button it disables is the one approval
    # would refuse. A reply the agent pastes on its own only warns.
    assert phone_severity({"text": reply, "record_id": data["record_id"]}) == ["error"]
    assert phone_severity({"text": reply}) == ["warning"]
    refused = client.post("/api/approve", json={"record_id": data["record_id"], "reply": reply})
    assert refused.status_code == 409
