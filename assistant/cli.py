"""The command line: thin commands that parse arguments, call the pipeline and print.

Exit codes: 0 clean, 1 lint errors found (or a backend failure), 2 usage or input error.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
)

from . import __version__, backends, intake
from . import batch as runner
from .config import data_dir
from .errors import ApprovalError, AssistantError, BackendError, InputError
from .models import Category, Classification, DraftResult, Email, LintReport
from .pipeline import Assistant
from .review import terminal
from .review.store import export

LINT_SCHEMA = "assistant.lint/1"
CLASSIFY_SCHEMA = "assistant.classify/1"
DRAFT_SCHEMA = "assistant.draft/1"

F = TypeVar("F", bound=Callable[..., Any])
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json for tools and scripts.",
)


def _fail_cleanly(func: F) -> F:
    """Every known failure becomes one sentence on stderr and its exit code, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _assistant(ctx: click.Context, backend: str | None = None) -> Assistant:
    obj = ctx.ensure_object(dict)
    if "assistant" not in obj:
        overrides: dict[tuple[str, ...], str] | None = {("backend",): backend} if backend else None
        obj["assistant"] = Assistant.from_config(obj.get("config"), overrides)
    result: Assistant = obj["assistant"]
    return result


def _read_email(assistant: Assistant, source: str, ctx: click.Context) -> Email:
    if source == "-":
        data = intake.read_bytes("-", max_bytes=assistant.settings.max_input_bytes)
        ctx.ensure_object(dict)["pasted"] = data
        return assistant.read(data)
    return assistant.read_file(source)


def _keep_pasted(ctx: click.Context) -> str:
    """A pasted email survives a failed backend: saved where the agent can find it again."""
    data = ctx.ensure_object(dict).get("pasted")
    if not data:
        return ""
    folder = data_dir() / "unsent"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a customer's email
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return f" The pasted email was kept in {path}."


backend_option = click.option(
    "--backend",
    type=click.Choice(backends.names()),
    help="Override the configured backend (also ASSISTANT_BACKEND).",
)


def _read_text(assistant: Assistant, source: str) -> str:
    limit = assistant.settings.max_input_bytes
    what = "Standard input" if source == "-" else source
    text = intake.decode(intake.read_bytes(source, max_bytes=limit), max_bytes=limit, what=what)
    if not text.strip():
        raise InputError(f"{what} is empty: there is no reply to lint.")
    return text


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def lint_payload(report: LintReport) -> dict[str, Any]:
    return {"schema": LINT_SCHEMA, **report.model_dump(mode="json")}


def _print_report(console: Console, report: LintReport, label: str = "") -> None:
    if not report.findings:
        console.print(f"[green]✓[/] {label}no findings")
        return
    for f in report.findings:
        style = _SEVERITY_STYLE[f.severity]
        console.print(
            f"{label}{f.line}:{f.column} [bold]{f.rule}[/] [{style}]{f.severity}[/] {escape(f.message)}"
        )
        console.print(f"    [dim]matched:[/] {escape(repr(f.text))}")
        if f.suggestion:
            console.print(f"    [dim]try:[/] {escape(f.suggestion)}")
    errors = len(report.errors())
    console.print(
        f"{len(report.findings)} finding(s), {errors} error(s)"
        + ("" if errors else " — approvable once the warnings are read")
    )


def _print_classification(console: Console, c: Classification) -> None:
    console.print(f"[bold]category[/]   {c.category.value}")
    console.print(f"[bold]urgency[/]    {c.urgency}")
    console.print(f"[bold]sentiment[/]  {c.sentiment}")
    signals = ", ".join(s.value for s in c.escalation_signals) or "none"
    console.print(f"[bold]signals[/]    {signals}")
    console.print(f"[bold]wants[/]      {escape(c.desired_outcome or 'not stated')}")
    facts = c.facts
    known = {
        "customer": facts.customer_name,
        "orders": ", ".join(facts.order_numbers),
        "tracking": ", ".join(facts.tracking_numbers),
        "products": ", ".join(facts.products),
        "amounts": ", ".join(facts.amounts),
        "dates": ", ".join(facts.dates),
        "language": facts.language if facts.language != "en" else "",
    }
    for key, value in known.items():
        if value:
            console.print(f"[bold]{key:<10}[/] {escape(value)}")
    if c.cues:
        console.print("[bold]why[/]")
        for cue in c.cues:
            console.print(f"  [dim]{cue.label}:[/] {escape(repr(cue.text))}")


class _OneLineErrors(click.Group):
    """Usage errors as one line on stderr and exit code 2, like every other error here."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            click.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assistant")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="ASSISTANT_CONFIG",
    help="assistant.toml to use (default: $ASSISTANT_CONFIG, else built-in defaults).",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Classify customer complaints, draft replies that follow the house guidelines, and lint them."""
    ctx.ensure_object(dict)["config"] = config


@main.command()
@click.argument("source")
@format_option
@backend_option
@click.option(
    "--approve", is_flag=True, help="Approve without a terminal: if lint is clean (exit 1 if not)."
)
@click.option(
    "--override-reason",
    help="Approve although error findings or unconfirmed commitments remain, and record why.",
)
@click.option(
    "--confirm-commitments",
    is_flag=True,
    help="With --approve: confirm every commitment the reply makes is done or will be done.",
)
@click.option("--agent", help="Who approves (default: config `agent`, else the OS user).")
@click.option(
    "--reply-file",
    type=click.Path(dir_okay=False),
    help="Approve this edited reply instead (linted first).",
)
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write the approved reply here."
)
@click.option("--no-review", is_flag=True, help="Only draft, even on a terminal.")
@click.pass_context
@_fail_cleanly
def draft(
    ctx: click.Context,
    source: str,
    fmt: str,
    backend: str | None,
    approve: bool,
    override_reason: str | None,
    confirm_commitments: bool,
    agent: str | None,
    reply_file: str | None,
    out_file: str | None,
    no_review: bool,
) -> None:
    """Draft a reply to the complaint in SOURCE (a .txt or .eml file, or - for stdin).

    On a terminal the agent then reviews it: approve, edit, apply a suggestion, regenerate, dismiss
    a finding or reject; every step is saved to the audit log. Without a terminal, --approve
    approves a clean draft and prints the reply for a mail client; a reply that commits to
    anything ("I'll refund you") also needs --confirm-commitments. Exits 1 while error findings
    or unconfirmed commitments remain.
    """
    assistant = _assistant(ctx, backend)
    _output_path(out_file)
    email = _read_email(assistant, source, ctx)
    console = _console()
    scripted = (
        approve or reply_file is not None or override_reason is not None or confirm_commitments
    )
    interactive = (
        not scripted
        and not no_review
        and fmt == "text"
        and sys.stdin.isatty()
        and sys.stdout.isatty()
    )
    streamed = fmt == "text" and sys.stdout.isatty() and assistant.backend.endpoint is not None
    if streamed:
        console.rule("reply (writing)")
    sink = (lambda text: console.out(text, end="")) if streamed else None
    try:
        result = assistant.draft(email, stream=sink)
    except BackendError as exc:
        raise BackendError(f"{exc}{_keep_pasted(ctx)}") from None
    if scripted:
        _approve_scripted(
            assistant, result, agent, reply_file, override_reason, confirm_commitments, out_file
        )
        return
    if fmt == "json":
        payload = result.model_dump(mode="json", exclude={"email": {"raw"}})
        _print_json({"schema": DRAFT_SCHEMA, **payload})
        sys.exit(0 if result.lint.ok else 1)
    if streamed:
        console.print()
    _print_classification(console, result.classification)
    console.print(f"\n[bold]meta-goal[/]  {escape(result.meta_goal)}")
    if not interactive:
        _print_draft(console, result)
        sys.exit(0 if result.lint.ok else 1)
    review = assistant.review(result, agent=agent)
    try:
        record = terminal.run(review, console)
    except (KeyboardInterrupt, click.Abort):
        console.print(f"\n[yellow]Saved as pending: record {review.record.id}.[/]")
        sys.exit(130)
    if record is None:
        console.print(f"[yellow]Saved as pending: record {review.record.id}.[/]")
        sys.exit(1)
    console.print(f"[green]{record.decision}[/]: record {record.id}")
    if record.decision == "approved":
        _deliver(record.final_reply, out_file, console)
    sys.exit(0 if record.decision == "approved" else 1)


def _approve_scripted(
    assistant: Assistant,
    result: DraftResult,
    agent: str | None,
    reply_file: str | None,
    override_reason: str | None,
    confirm_commitments: bool,
    out_file: str | None,
) -> None:
    review = assistant.review(result, agent=agent)
    if reply_file is not None:
        path = Path(reply_file)
        if not path.is_file():
            raise InputError(f"{reply_file} does not exist or is not a file.")
        review.edit(intake.decode(path.read_bytes(), what=reply_file).strip("\n"), "reply file")
    try:
        record = review.approve(
            override_reason, confirmed=review.commitments if confirm_commitments else ()
        )
    except ApprovalError:
        err = _err_console()
        _print_report(err, review.report)
        err.print(f"Left pending as record {review.record.id}.")
        raise
    _err_console().print(f"approved: record {record.id}")
    _deliver(record.final_reply, out_file, None)


def _output_path(path: str | None) -> None:
    """Refuse an output file that cannot be written, before any work is done or recorded."""
    if path is None:
        return
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise InputError(f"{path} is a folder, not a file to write.")
    if not folder.is_dir():
        raise InputError(f"{path} cannot be written: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{path} cannot be written: the folder {folder} is not writable.")


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path} cannot be written: {exc.strerror or exc}.") from None


def _deliver(reply: str, out_file: str | None, console: Console | None) -> None:
    """The approved reply, to a file or to stdout, ready for a mail client."""
    if out_file:
        _write(out_file, reply + "\n")
        if console is not None:
            console.print(f"Reply written to {out_file}.")
    else:
        click.echo(reply)


def _err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _print_draft(console: Console, result: DraftResult) -> None:
    backend = result.backend + (f" ({result.model})" if result.model else "")
    extra = f", {result.revisions} revision(s)" if result.revisions else ""
    if result.usage:
        extra += f", {result.usage.total_tokens} tokens"
    console.print(f"[dim]backend {backend}, prompts {result.prompt_version}{extra}[/]")
    for note in result.notes:
        console.print(f"[bold yellow]note[/] {escape(note)}")
    console.rule("reply")
    console.print(escape(result.reply))
    console.rule("lint")
    _print_report(console, result.lint)
    terminal.print_checklist(console, result.commitments, result.sources)


@main.command()
@click.argument("source")
@format_option
@backend_option
@click.pass_context
@_fail_cleanly
def classify(ctx: click.Context, source: str, fmt: str, backend: str | None) -> None:
    """Classify the complaint in SOURCE (a .txt or .eml file, or - for stdin)."""
    assistant = _assistant(ctx, backend)
    try:
        result = assistant.classify(_read_email(assistant, source, ctx))
    except BackendError as exc:
        raise BackendError(f"{exc}{_keep_pasted(ctx)}") from None
    if fmt == "json":
        _print_json({"schema": CLASSIFY_SCHEMA, **result.model_dump(mode="json")})
    else:
        _print_classification(_console(), result)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@format_option
@click.option(
    "--semantic", is_flag=True, help="Add the semantic layer (needs the [semantic] extra)."
)
@click.option(
    "--email",
    "email_path",
    metavar="FILE",
    help="The complaint the reply answers: the rules that read the situation run too.",
)
@click.pass_context
@_fail_cleanly
def lint(
    ctx: click.Context,
    sources: tuple[str, ...],
    fmt: str,
    semantic: bool,
    email_path: str | None,
) -> None:
    """Lint the reply in each SOURCE (a text file, or - for stdin).

    Prints line:col rule-id severity message. Exits 1 when any error finding remains.
    """
    obj = ctx.ensure_object(dict)
    if semantic and "assistant" not in obj:
        obj["assistant"] = Assistant.from_config(obj.get("config"), {("lint", "semantic"): "true"})
    assistant = _assistant(ctx)
    email = assistant.read_file(email_path) if email_path is not None else None
    reports = {
        source: assistant.lint(_read_text(assistant, source), email=email) for source in sources
    }
    if fmt == "json":
        if len(reports) == 1:
            _print_json(lint_payload(next(iter(reports.values()))))
        else:
            _print_json(
                {"schema": LINT_SCHEMA, "files": {s: lint_payload(r) for s, r in reports.items()}}
            )
    else:
        console = _console()
        for source, report in reports.items():
            _print_report(console, report, label=f"{source}:" if len(reports) > 1 else "")
    sys.exit(0 if all(r.ok for r in reports.values()) else 1)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_fail_cleanly
def rules(fmt: str) -> None:
    """List every lint rule: id, category, severity and what it catches."""
    from .lint import builtin_rules

    all_rules = builtin_rules()
    if fmt == "json":
        _print_json({"rules": [r.model_dump(mode="json") for r in all_rules]})
        return
    console = _console()
    for r in all_rules:
        style = _SEVERITY_STYLE[r.severity]
        console.print(
            f"[bold]{r.id}[/] [{style}]{r.severity}[/] [dim]{r.category}[/]  {escape(r.message)}"
        )


@main.command()
@click.argument("source", type=click.Path(exists=True))
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Results, one JSON line each.",
)
@backend_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Drafts in flight.",
)
@click.option("--rpm", type=click.IntRange(1), help="At most this many LLM requests per minute.")
@click.option("--tpm", type=click.IntRange(1), help="At most this many LLM tokens per minute.")
@click.option(
    "--workers",
    type=click.IntRange(1),
    help="Processes for the offline backend (default: one per core).",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False),
    help="Also write an HTML report here.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="The summary's format.",
)
@click.pass_context
@_fail_cleanly
def batch(
    ctx: click.Context,
    source: str,
    out_file: str,
    backend: str | None,
    concurrency: int,
    rpm: int | None,
    tpm: int | None,
    workers: int | None,
    report_file: str | None,
    fmt: str,
) -> None:
    """Draft every email in SOURCE (a folder of .eml/.txt files, an mbox file, or a JSONL file with
    id and text fields) into --out. Re-running with the same --out skips what is done."""
    assistant = _assistant(ctx, backend)
    _output_path(out_file)
    _output_path(report_file)
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("drafting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=_err_console(),
        disable=not sys.stderr.isatty(),
        transient=False,
    ) as bar:
        task = bar.add_task("batch", total=None, rate="")

        def progress(done: int, todo: int | None) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=todo, rate=f"{rate:,.1f}/s")

        summary = runner.run(
            assistant,
            source,
            out_file,
            concurrency=concurrency,
            workers=workers,
            rpm=rpm,
            tpm=tpm,
            progress=progress,
            report=report_file,
        )
    if fmt == "json":
        _print_json(summary.model_dump())
    else:
        _print_summary(_console(), summary)
    sys.exit(0 if summary.failed == 0 else 1)


def _print_summary(console: Console, s: runner.Summary) -> None:
    if s.set_aside:
        console.print(
            f"[yellow]warning[/]: {s.set_aside} unreadable line(s) of the output were moved to "
            "its .corrupt file beside it, and their emails drafted again."
        )
    console.print(
        f"[bold]{s.drafted}[/] drafted, {s.failed} failed, {s.skipped} already done; "
        f"{s.lint_clean} lint clean ({s.lint_rate:.0%}), {s.revisions} revisions, {s.tokens} tokens, "
        f"{s.seconds:.1f} s"
    )
    for title, counts in (
        ("categories", s.categories),
        ("urgency", s.urgency),
        ("signals", s.signals),
        ("failures", s.errors),
    ):
        if counts:
            console.print(f"[bold]{title}[/]: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Any address other than loopback needs the token.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.pass_context
@_fail_cleanly
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the local web page and its JSON API (/api/..., OpenAPI at /docs)."""
    import uvicorn

    from .web import access_token, create_app

    assistant = _assistant(ctx)
    token = access_token(host, assistant.settings.web_token)
    app = create_app(assistant, token=token)
    where = f"http://{host}:{port}/"
    click.echo(f"Serving on {where}" + (f"?token={token}" if token else ""), err=True)
    if token:
        click.echo(f"Every request needs the token: Authorization: Bearer {token}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-11-22 or 2026-11-22T09:30"
        ) from None


history_filters = [
    click.option("--agent", help="Only this agent's decisions."),
    click.option(
        "--category", type=click.Choice([c.value for c in Category]), help="Only this category."
    ),
    click.option("--decision", type=click.Choice(["pending", "approved", "rejected"])),
    click.option("--since", help="From this date or time (ISO 8601)."),
    click.option("--until", help="Before this date or time (ISO 8601)."),
    click.option("--limit", type=int, default=50, show_default=True, help="0 for all."),
]


def _filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the history filter options to a command and hands it one `query` for
    Assistant.history instead of six parameters."""

    @wraps(func)
    def wrapper(
        *args: Any,
        agent: str | None,
        category: str | None,
        decision: str | None,
        since: str | None,
        until: str | None,
        limit: int,
        **kwargs: Any,
    ) -> Any:
        query = {
            "agent": agent,
            "category": category,
            "decision": decision,
            "since": _when(since),
            "until": _when(until),
            "limit": limit or None,
        }
        return func(*args, query=query, **kwargs)

    for option in reversed(history_filters):
        wrapper = option(wrapper)
    return wrapper


@main.group(invoke_without_command=True)
@_filters
@format_option
@click.pass_context
@_fail_cleanly
def history(ctx: click.Context, query: dict[str, Any], fmt: str) -> None:
    """Recent decisions from the audit log (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    records = _assistant(ctx).history(**query)
    if fmt == "json":
        _print_json({"records": [r.model_dump(mode="json") for r in records]})
        return
    console = _console()
    if not records:
        console.print("No decisions recorded yet.")
    for r in records:
        first_line = r.complaint.strip().splitlines()[0][:60] if r.complaint.strip() else ""
        console.print(
            f"{r.id}  {r.created_at:%Y-%m-%d %H:%M}  {r.decision:<8}  {r.agent:<10}  "
            f"{r.classification.category.value:<28}  {escape(first_line)}"
        )


@history.command("show")
@click.argument("record_id")
@format_option
@click.pass_context
@_fail_cleanly
def history_show(ctx: click.Context, record_id: str, fmt: str) -> None:
    """One decision in full: the email, the classification, every edit and the final reply."""
    record = _assistant(ctx).audit.get(record_id)
    if fmt == "json":
        _print_json(record.model_dump(mode="json"))
        return
    console = _console()
    console.print(
        f"[bold]{record.id}[/]  {record.decision} by {record.agent}, {record.created_at:%Y-%m-%d %H:%M}"
    )
    if record.override_reason:
        console.print(f"[yellow]override:[/] {escape(record.override_reason)}")
    if record.reason:
        console.print(f"[red]rejected:[/] {escape(record.reason)}")
    _print_classification(console, record.classification)
    console.rule("complaint")
    console.print(escape(record.complaint))
    console.rule(f"first draft ({record.backend}{', ' + record.model if record.model else ''})")
    console.print(escape(record.first_draft))
    for edit in record.edits:
        console.rule(f"{edit.note or 'edit'}  {edit.at:%H:%M:%S}")
        console.print(escape(edit.text))
    console.rule("final reply")
    console.print(escape(record.final_reply))
    for d in record.dismissed:
        console.print(f"[dim]dismissed {d.finding.rule} {d.finding.text!r}: {escape(d.reason)}[/]")


@history.command("export")
@_filters
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write here instead of stdout."
)
@click.pass_context
@_fail_cleanly
def history_export(
    ctx: click.Context, query: dict[str, Any], fmt: str, out_file: str | None
) -> None:
    """Export decisions as JSON lines or CSV."""
    _output_path(out_file)
    records = _assistant(ctx).history(**query)
    text = export(records, fmt)  # type: ignore[arg-type]
    if out_file:
        _write(out_file, text)
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()
