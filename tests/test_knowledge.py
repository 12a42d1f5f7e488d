"""The company's knowledge: Markdown files with front matter, indexed with BM25, found for the
complaint they fit, used in drafts and named as sources."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import assistant
from assistant import ConfigError, Settings, knowledge

from conftest import ROOT, run_cli

ARTICLE = """---
title: Restore deleted notes
url: https://notes.example/help/restore
kind: article
tags: [notes, restore]
---
Every note is kept for 30 days.

1. Open Settings, then History.
2. Choose the day before the notes went missing.
3. Select Restore.
"""
MACRO = """---
title: Wrong charge
kind: macro
tags: [billing_error]
---
I'll refund {% if amount %}the {{ amount }}{% else %}every wrong charge{% endif %} today.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    base = tmp_path / "knowledge"
    base.mkdir()
    (base / "restore.md").write_text(ARTICLE)
    (base / "charge.md").write_text(MACRO)
    return base


def _helper(folder: Path, **company: str) -> assistant.Assistant:
    return assistant.Assistant(
        Settings.model_validate(
            {"company": {"business": "software", **company}, "knowledge": {"paths": [folder]}}
        )
    )


def test_front_matter_is_read(folder: Path) -> None:
    base = knowledge.load([folder])
    by_title = {d.title: d for d in base.documents}
    article = by_title["Restore deleted notes"]
    assert article.kind == "article" and article.url == "https://notes.example/help/restore"
    assert article.tags == ["notes", "restore"] and article.path == "restore.md"
    assert article.steps[0] == "Open Settings, then History."
    assert by_title["Wrong charge"].kind == "macro"


def test_search_finds_what_fits_and_nothing_for_what_does_not(folder: Path) -> None:
    base = knowledge.load([folder])
    found = base.search("my notes went missing after the update, can I restore them")
    assert [m.document.title for m in found] == ["Restore deleted notes"]
    assert base.search("the pilot was rude to my mother on the flight") == []


def test_a_question_is_answered_from_the_article_with_its_steps_and_link(folder: Path) -> None:
    result = _helper(folder).draft(
        "After the update half my notes are gone on every device. Can I restore them?"
    )
    assert "1. Open Settings, then History." in result.reply
    assert "https://notes.example/help/restore" in result.reply
    assert [(s.title, s.path, s.url) for s in result.sources] == [
        ("Restore deleted notes", "restore.md", "https://notes.example/help/restore")
    ]


def test_an_article_answers_only_a_question_that_names_what_it_is_about(tmp_path: Path) -> None:
    for name, title, tags, body in [
        (
            "refunds",
            "Refunds for bookings",
            "refund, booking",
            "Refunds go to the card you paid with.",
        ),
        ("seats", "Choosing a seat", "seat, booking", "Pick a seat in Manage Booking."),
        ("bags", "Report a damaged bag", "bag, claim", "File a claim online within 7 days."),
    ]:
        (tmp_path / f"{name}.md").write_text(f"---\ntitle: {title}\ntags: [{tags}]\n---\n{body}\n")
    base = knowledge.load([tmp_path])
    by_path = {d.path: d for d in base.documents}
    refunds, bags = by_path["refunds.md"], by_path["bags.md"]
    # shares "card", "booking" and "paid", but changing a card is not what refunds are about
    assert not base.answers(refunds, "Can I change the card I paid for my booking with?")
    assert base.answers(refunds, "How long does a refund take to reach my card?")
    assert base.answers(bags, "How do I file a claim?")


def test_an_article_for_one_category_does_not_answer_a_question_in_another(
    tmp_path: Path,
) -> None:
    (tmp_path / "bags.md").write_text(
        "---\ntitle: Claim for a damaged bag\ntags: [damaged_or_defective, claim]\n---\n"
        "1. Open a claim online.\n"
    )
    helper = _helper(tmp_path, business="airline")
    damaged = helper.draft("My bag was ripped on the flight. How do I claim?")
    assert "1. Open a claim online." in damaged.reply
    cancelled = helper.draft("You cancelled our flight and we paid for a hotel. How do I claim?")
    assert "Open a claim online" not in cancelled.reply


def test_a_saved_reply_is_adapted_with_the_customers_facts(folder: Path) -> None:
    result = _helper(folder).draft("You charged me $12.50 for a plan I never signed up to.")
    assert "I'll refund the $12.50 today." in result.reply
    assert [s.kind for s in result.sources] == ["macro"]


def test_a_saved_reply_is_used_only_for_the_case_it_was_written_for(tmp_path: Path) -> None:
    (tmp_path / "renewal.md").write_text(
        "---\ntitle: Unwanted renewal\nkind: macro\ntags: [billing_error]\n---\n"
        "I'll refund the renewal and switch off automatic renewal.\n"
    )
    helper = _helper(tmp_path)
    renewed = helper.draft("You renewed my subscription without asking and took $60.")
    assert "switch off automatic renewal" in renewed.reply
    wrong_plan = helper.draft(
        "I was billed for the family plan, but I only ever had the single plan."
    )
    assert "automatic renewal" not in wrong_plan.reply and wrong_plan.sources == []


def test_the_index_is_rebuilt_when_a_file_changes(folder: Path) -> None:
    first = knowledge.load([folder])
    assert knowledge.load([folder]) is first  # cached while nothing changed
    page = folder / "restore.md"
    page.write_text(ARTICLE.replace("Restore deleted notes", "Bring back lost notes"))
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 1_000_000))
    again = knowledge.load([folder])
    assert again is not first
    assert "Bring back lost notes" in {d.title for d in again.documents}


def test_bad_knowledge_is_a_clear_error(tmp_path: Path, folder: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        _helper(tmp_path / "nowhere")
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody")
    with pytest.raises(ConfigError, match=r"broken\.md"):
        knowledge.load([folder])
    (folder / "broken.md").write_text("---\ntitle: Odd\nkind: faq\n---\nbody")
    with pytest.raises(ConfigError, match="kind"):
        knowledge.load([folder])


def test_without_knowledge_everything_still_works() -> None:
    result = assistant.draft("After the update half my notes are gone. Can I restore them?")
    assert result.sources == [] and result.reply
    assert any("No article answers" in n for n in result.notes)


def test_the_cli_names_the_sources() -> None:
    config = ROOT / "examples" / "software" / "assistant.toml"
    email = ROOT / "examples" / "software" / "emails" / "05-how-to-cancel.txt"
    shown = run_cli("--config", str(config), "draft", "--no-review", str(email))
    assert "source article: Cancel your subscription" in shown.out
    assert "https://lumen-notes.example/help/cancel" in shown.out
