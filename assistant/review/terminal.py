"""The interactive review in a terminal: the draft with its findings highlighted in place, then
approve, edit ($VISUAL/$EDITOR), apply a suggestion, regenerate, dismiss or reject.

Every change is already saved (as pending) by `Review`; Ctrl-C only ends the session.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..errors import InputError
from ..models import Commitment, Finding, Source
from . import ApprovalError, Record, Review

_STYLE = {"error": "bold white on red", "warning": "black on yellow", "info": "black on cyan"}
ACTIONS = "[a]pprove  [e]dit  [s]uggestion  [r]egenerate  [d]ismiss  [x] reject  [q]uit"


def render(review: Review, console: Console) -> None:
    reply = review.reply
    text = Text(reply)
    findings = review.report.findings
    for f in findings:
        text.stylize(_STYLE[f.severity], f.start, max(f.end, f.start + 1))
    console.rule(f"reply  (record {review.record.id}, {review.record.decision})")
    console.print(text)
    console.rule("findings")
    if not findings:
        console.print("[green]✓ no findings[/]")
    for number, f in enumerate(findings, start=1):
        console.print(
            f"[bold]{number}[/] {f.line}:{f.column} [bold]{f.rule}[/] {f.severity}: {escape(repr(f.text))}"
        )
        console.print(f"   {escape(f.message)}")
        if f.suggestion:
            console.print(f"   [dim]try:[/] {escape(f.suggestion)}")
    for d in review.report.dismissed:
        console.print(f"[dim]dismissed {d.finding.rule} {d.finding.text!r}: {escape(d.reason)}[/]")
    print_checklist(console, review.commitments, review.result.sources)


def print_checklist(console: Console, commitments: list[Commitment], sources: list[Source]) -> None:
    """What the reply commits to, for the agent to confirm, and the knowledge it drew on: the
    scripted draft and the review show the same list."""
    if commitments:
        console.rule("commitments (confirm each before approving)")
        for c in commitments:
            claim = "claims done" if c.done else "promises"
            when = f", {c.when}" if c.when else ""
            console.print(f"[ ] {c.action} ({claim}{escape(when)}): {escape(c.text)}")
    for source in sources:
        where = source.url or source.path
        console.print(f"[dim]source[/] {source.kind}: {escape(source.title)} ({escape(where)})")


def _confirm(review: Review) -> list[str] | None:
    """The agent's word on each commitment; None if any is not (yet) true: back to editing."""
    confirmed = []
    for c in review.commitments:
        question = "Done already?" if c.done else "Will it be done as written?"
        if not click.confirm(f'"{c.text}" — {question}', default=False):
            click.echo("Edit it out (or make it true) before approving.")
            return None
        confirmed.append(c.text)
    return confirmed


def _pick(review: Review, action: str) -> Finding | None:
    findings = review.report.findings
    if not findings:
        click.echo("There are no findings.")
        return None
    if len(findings) == 1:
        return findings[0]
    number = click.prompt(
        f"Which finding ({action}), 1-{len(findings)}", type=click.IntRange(1, len(findings))
    )
    return findings[number - 1]


def run(review: Review, console: Console) -> Record | None:
    """Review until approved or rejected; returns the record, or None when the agent quits."""
    while True:
        render(review, console)
        choice = click.prompt(
            ACTIONS, type=click.Choice(list("aesrdxq")), show_choices=False
        ).lower()
        try:
            if choice == "a":
                override = None
                if review.report.errors():
                    override = click.prompt(
                        "Error findings remain. Override reason (empty to go back)",
                        default="",
                        show_default=False,
                    )
                    if not override.strip():
                        continue
                confirmed = _confirm(review)
                if confirmed is None:
                    continue
                return review.approve(override, confirmed=confirmed)
            if choice == "e":
                edited = click.edit(review.reply, extension=".txt", require_save=True)
                if edited is None:
                    click.echo("Not saved; the reply is unchanged.")
                else:
                    review.edit(edited.rstrip("\n"))
            elif choice == "s":
                finding = _pick(review, "apply its suggestion")
                if finding is not None:
                    review.apply_suggestion(finding)
            elif choice == "r":
                review.regenerate()
            elif choice == "d":
                finding = _pick(review, "dismiss")
                if finding is not None:
                    reason = click.prompt(
                        "Reason for dismissing it", default="", show_default=False
                    )
                    if reason.strip():
                        review.dismiss(finding, reason)
            elif choice == "x":
                reason = click.prompt(
                    "Reason for rejecting this draft", default="", show_default=False
                )
                if reason.strip():
                    return review.reject(reason)
            elif choice == "q":
                return None
        except (ApprovalError, InputError) as exc:
            console.print(f"[bold red]{escape(str(exc))}[/]")
