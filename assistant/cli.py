"""The command line: thin commands that parse arguments, call the pipeline and print.

Exit codes: 0 clean, 1 lint errors found (or a backend failure), 2 usage or input error.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from . import __version__, intake
from .config import data_dir
from .errors import AssistantError, BackendError, InputError
from .models import Classification, DraftResult, Email, LintReport
from .pipeline import Assistant

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
        data = sys.stdin.buffer.read()
        ctx.ensure_object(dict)["pasted"] = data
        return assistant.read(data)
    return assistant.read_file(source)


def _keep_pasted(ctx: click.Context) -> str:
    """A pasted email survives a failed backend: saved where the agent can find it again."""
    data = ctx.ensure_object(dict).get("pasted")
    if not data:
        return ""
    folder = data_dir() / "unsent"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.eml"
    path.write_bytes(data)
    return f" The pasted email was kept in {path}."


backend_option = click.option(
    "--backend",
    type=click.Choice(["offline", "openai"]),
    help="Override the configured backend (also ASSISTANT_BACKEND).",
)


def _read_text(assistant: Assistant, source: str) -> str:
    limit = assistant.settings.max_input_bytes
    if source == "-":
        data = sys.stdin.buffer.read()
        what = "Standard input"
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{source} does not exist or is not a file.")
        intake.check_size(path.stat().st_size, limit, source)
        data, what = path.read_bytes(), source
    text = intake.decode(data, max_bytes=limit, what=what)
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.pass_context
@_fail_cleanly
def draft(ctx: click.Context, source: str, fmt: str, backend: str | None) -> None:
    """Draft a reply to the complaint in SOURCE (a .txt or .eml file, or - for stdin).

    Exits 1 when the draft still has error findings.
    """
    assistant = _assistant(ctx, backend)
    email = _read_email(assistant, source, ctx)
    console = _console()
    streamed = fmt == "text" and sys.stdout.isatty() and assistant.settings.backend == "openai"
    if streamed:
        console.rule("reply (writing)")
    sink = (lambda text: console.out(text, end="")) if streamed else None
    try:
        result = assistant.draft(email, stream=sink)
    except BackendError as exc:
        raise BackendError(f"{exc}{_keep_pasted(ctx)}") from None
    if fmt == "json":
        payload = result.model_dump(mode="json", exclude={"email": {"raw"}})
        _print_json({"schema": DRAFT_SCHEMA, **payload})
    else:
        if streamed:
            console.print()
        _print_draft(console, result)
    sys.exit(0 if result.lint.ok else 1)


def _print_draft(console: Console, result: DraftResult) -> None:
    _print_classification(console, result.classification)
    console.print(f"\n[bold]meta-goal[/]  {escape(result.meta_goal)}")
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
@click.pass_context
@_fail_cleanly
def lint(ctx: click.Context, sources: tuple[str, ...], fmt: str, semantic: bool) -> None:
    """Lint the reply in each SOURCE (a text file, or - for stdin).

    Prints line:col rule-id severity message. Exits 1 when any error finding remains.
    """
    obj = ctx.ensure_object(dict)
    if semantic and "assistant" not in obj:
        obj["assistant"] = Assistant.from_config(obj.get("config"), {("lint", "semantic"): "true"})
    assistant = _assistant(ctx)
    reports = {source: assistant.lint(_read_text(assistant, source)) for source in sources}
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


if __name__ == "__main__":
    main()
