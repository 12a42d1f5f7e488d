"""The page in a real headless Chromium (Debian's package), driven by Playwright: an agent's whole
job, the XSS check, and screenshots for review."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

import assistant
from assistant import Settings
from assistant.web import create_app

from conftest import EXAMPLES, ROOT, _free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("ASSISTANT_REQUIRE_BROWSER"):
        pytest.fail("the browser tests need Debian's chromium", pytrace=False)
    pytest.skip("chromium is not installed", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BAD = "Hi Tom,\n\nOur records show it was delivered, so there is nothing we can do.\n\nSam"


def _serve(settings: Settings) -> Iterator[str]:
    app = create_app(assistant.Assistant(settings))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web") / "audit.sqlite3"
    yield from _serve(Settings(audit_db=db, agent="browser"))


@pytest.fixture(scope="module")
def software_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = assistant.load_settings(ROOT / "examples" / "software" / "assistant.toml")
    db = tmp_path_factory.mktemp("web-software") / "audit.sqlite3"
    yield from _serve(settings.model_copy(update={"audit_db": db, "agent": "browser"}))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server)
    yield page
    context.close()


def _draft(page, name: str = "03-cancel-after-dispatch.eml") -> None:  # type: ignore[no-untyped-def]
    page.fill("#email", (EXAMPLES / name).read_text())
    page.click("#draft")
    page.wait_for_selector("#badges .badge")


def test_an_agents_whole_job(page, server) -> None:  # type: ignore[no-untyped-def]
    _draft(page)
    badges = page.locator("#badges .badge").all_inner_texts()
    assert "cancellation_or_order_change" in badges and "chargeback_threat" in badges
    assert "credit card company" in page.get_attribute('[data-badge="chargeback_threat"]', "title")
    assert page.inner_text("#meta-goal").startswith("Denise")
    assert page.input_value("#reply").startswith("Hi Denise,")
    # Every commitment the draft makes is on the checklist; approval waits for each tick.
    boxes = page.locator("#commitments input[type=checkbox]")
    assert boxes.count() >= 2
    assert "I'll cancel it for you today" in page.inner_text("#commitments")
    assert page.is_disabled("#approve")
    for k in range(boxes.count()):
        boxes.nth(k).check()
    assert page.is_enabled("#approve")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-drafted.png"), full_page=True)

    # Edit the reply into a blaming one: findings appear in place, approval is blocked.
    page.fill("#reply", BAD)
    page.wait_for_selector('#findings li[data-rule="doubt-our-records"]')
    assert page.locator("#highlights mark.error").count() >= 2
    assert page.is_disabled("#approve")

    # Click the highlighted words: the finding's message and suggestion; apply it.
    page.click("#reply")
    page.evaluate(
        "() => { const r = document.getElementById('reply'); r.setSelectionRange(20, 20); r.click(); }"
    )
    page.wait_for_selector("#finding:not(.hidden)")
    assert "believable" in page.inner_text("#finding-message")
    page.click("#apply")
    page.wait_for_function(
        "() => !document.getElementById('reply').value.includes('Our records show')"
    )
    page.wait_for_selector('#findings li[data-rule="doubt-our-records"]', state="detached")
    page.wait_for_selector('#findings li[data-rule="stonewall-nothing-we-can-do"]')
    page.screenshot(path=str(ARTIFACTS / "page-findings.png"), full_page=True)

    # Override with a reason, approve with the keyboard, copy.
    page.fill("#override", "team lead agreed")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=Approved (record")
    page.click("#copy")
    page.wait_for_selector("text=Copied to the clipboard.")

    page.click("#history-link")
    page.wait_for_selector("table.history")
    assert "team lead" not in page.inner_text(
        "table.history"
    )  # the reason is in the record, not the list
    assert "cancellation_or_order_change" in page.inner_text("table.history")
    assert "override" in page.inner_text("table.history")


def test_pasted_html_and_script_stay_inert(page) -> None:  # type: ignore[no-untyped-def]
    payload = (
        'My kettle is broken <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
        '<b onmouseover="window.__xss=3">hi</b> Jane'
    )
    page.fill("#email", payload)
    page.click("#draft")
    page.wait_for_selector("#badges .badge")
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#review img, #review script, #review b").count() == 0
    page.fill("#reply", '<img src=x onerror="window.__xss=4"> Our records show it was delivered.')
    page.wait_for_selector('#findings li[data-rule="doubt-our-records"]')
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#highlights img").count() == 0


def test_a_failed_draft_keeps_the_pasted_email(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#email", "   ")
    page.click("#draft")
    page.wait_for_selector("#status.error")
    text = "\u0000binary?"
    page.fill("#email", "My order is late." + text)
    page.click("#draft")
    page.wait_for_selector("#badges .badge")
    assert page.input_value("#email") == "My order is late." + text


def test_phone_width(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server)
    _draft(page, "04-broken-kettle.txt")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390  # nothing scrolls sideways on a phone
    page.screenshot(path=str(ARTIFACTS / "page-phone.png"), full_page=True)
    context.close()


def test_drop_an_eml_regenerate_and_reject(page, server) -> None:  # type: ignore[no-untyped-def]
    eml = (EXAMPLES / "02-missing-second-item.eml").read_text()
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "complaint.eml", { type: "message/rfc822" }));
            document.getElementById("intake").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
        }""",
        eml,
    )
    page.wait_for_selector("text=Loaded complaint.eml.")
    assert page.input_value("#email") == eml
    page.click("#draft")
    page.wait_for_selector("#badges .badge")
    assert "lost_or_missing" in page.locator("#badges .badge").all_inner_texts()
    page.fill("#reply", "Something else entirely, written by hand today.")
    page.click("#regenerate")
    page.wait_for_function("() => document.getElementById('reply').value.startsWith('Hi Helen')")
    page.once("dialog", lambda dialog: dialog.accept("customer phoned; sorted on the call"))
    page.click("#reject")
    page.wait_for_selector("text=Rejected (record")
    page.goto(server + "history")
    assert "rejected" in page.inner_text("table.history")


def test_the_articles_a_draft_used_are_listed_with_their_links(browser, software_server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(software_server)
    page.fill("#email", (ROOT / "examples/software/emails/05-how-to-cancel.txt").read_text())
    page.click("#draft")
    page.wait_for_selector("#badges .badge")
    assert page.is_visible("#sources-box")
    link = page.locator("#sources a").first
    assert link.inner_text() == "Cancel your subscription"
    assert link.get_attribute("href") == "https://lumen-notes.example/help/cancel"
    page.close()
