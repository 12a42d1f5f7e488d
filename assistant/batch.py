"""Batch drafting: a folder, an mbox or a JSONL export in; one JSON line per email out.

Inputs are streamed, never loaded whole. Each result line is written whole with one append and
flushed, so a run killed half-way loses nothing already written and leaves no half line; running
again with the same output skips the ids already done. The openai backend drafts concurrently on
the async client (bounded by --concurrency and the request and token limits); the offline backend
uses a process per core.
"""

from __future__ import annotations

import asyncio
import collections
import json
import mailbox
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from .errors import AssistantError, InputError
from .models import DraftResult, Email, Text
from .prompts import html_templates

if TYPE_CHECKING:
    from .backends import Backend
    from .config import Settings


class Drafter(Protocol):
    """What a batch needs of the pipeline (an `Assistant`)."""

    settings: Settings
    backend: Backend

    def __init__(self, settings: Settings) -> None: ...

    def draft(self, source: Text) -> DraftResult: ...

    async def adraft(self, source: Text) -> DraftResult: ...


class Item(BaseModel):
    id: str
    data: bytes | str


class BatchResult(BaseModel):
    """One output line."""

    id: str
    classification: dict[str, Any] | None = None
    meta_goal: str | None = None
    reply: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    lint_ok: bool | None = None
    backend: str | None = None
    model: str | None = None
    usage: dict[str, int] | None = None
    revisions: int = 0
    error: str | None = None

    @classmethod
    def of(cls, item_id: str, result: DraftResult) -> BatchResult:
        return cls(
            id=item_id,
            classification=result.classification.model_dump(mode="json", exclude={"cues"}),
            meta_goal=result.meta_goal,
            reply=result.reply,
            findings=[f.model_dump(mode="json") for f in result.lint.findings],
            lint_ok=result.lint.ok,
            backend=result.backend,
            model=result.model,
            usage=result.usage.model_dump() if result.usage else None,
            revisions=result.revisions,
        )


# Reading ---------------------------------------------------------------------------------------


def read_items(source: str | Path) -> Iterator[Item]:
    """Items from a folder of .eml/.txt files, an mbox file, or a JSONL file with id and text
    (or email) fields, one at a time."""
    path = Path(source)
    if path.is_dir():
        return _folder(path)
    if not path.is_file():
        raise InputError(f"{source} does not exist.")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _jsonl(path)
    with path.open("rb") as f:
        head = f.read(5)
    if head == b"From ":
        return _mbox(path)
    raise InputError(f"{source} is not a folder, an mbox file or a .jsonl file.")


def count_items(source: str | Path) -> int | None:
    """How many items, cheaply (for the progress bar's ETA); None when counting costs a read."""
    path = Path(source)
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in (".eml", ".txt"))
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    return None


def _folder(path: Path) -> Iterator[Item]:
    for file in sorted(path.iterdir()):
        if file.suffix.lower() in (".eml", ".txt") and file.is_file():
            yield Item(id=file.stem, data=file.read_bytes())


def _jsonl(path: Path) -> Iterator[Item]:
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row.get("text", row.get("email"))
                item_id = str(row.get("id", number))
            except (json.JSONDecodeError, AttributeError):
                yield Item(id=f"line-{number}", data=b"")
                continue
            yield Item(id=item_id, data=text if isinstance(text, str) else "")


def _mbox(path: Path) -> Iterator[Item]:
    for number, message in enumerate(mailbox.mbox(path), start=1):
        item_id = str(message.get("Message-ID") or f"message-{number}").strip("<> ")
        yield Item(id=item_id, data=message.as_bytes())


# Writing ---------------------------------------------------------------------------------------


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """`data` written to `path` (appended or replacing, by `mode`) and synced; a file of customer
    data, readable by this user only from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class Output:
    """Append-only JSONL: whole lines, flushed one by one, resumable. A file damaged by a crash
    or an editor is resumed from what it holds whole: a cut-off last line and any line that is
    not a result are moved to `<out>.corrupt` (so nothing is lost) and their emails drafted
    again; `set_aside` says how many."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: set[str] = set()
        self.set_aside = 0
        if self.path.exists():
            self._recover()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @property
    def corrupt_path(self) -> Path:
        return self.path.with_name(self.path.name + ".corrupt")

    def _recover(self) -> None:
        data = self.path.read_bytes()
        good, bad = [], []
        for line in data.splitlines(keepends=True):
            result = _parse(line) if line.endswith(b"\n") else None
            if result is None:
                if line.strip():
                    bad.append(line if line.endswith(b"\n") else line + b"\n")
                continue
            good.append(line)
            self.done.add(result.id)
        if not bad:
            return
        _write_private(self.corrupt_path, b"".join(bad), os.O_APPEND)
        # The good lines go back in place only once the bad ones are safe beside them.
        temporary = self.path.with_name(self.path.name + ".tmp")
        _write_private(temporary, b"".join(good), os.O_TRUNC)
        os.replace(temporary, self.path)
        self.set_aside = len(bad)

    def write(self, result: BatchResult) -> None:
        line = (result.model_dump_json() + "\n").encode("utf-8")
        os.write(self._fd, line)  # one append per line: never interleaved, never half-written by us
        self.done.add(result.id)

    def close(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)


# Drafting --------------------------------------------------------------------------------------


def items_of(texts: Iterable[Text | tuple[str, Text]]) -> Iterator[Item]:
    """Items from texts (ids are their positions) or (id, text) pairs."""
    for number, entry in enumerate(texts):
        item_id, text = entry if isinstance(entry, tuple) else (str(number), entry)
        yield Item(id=item_id, data=text.raw if isinstance(text, Email) else text)


def _draft_one(helper: Drafter, item: Item) -> BatchResult:
    try:
        return BatchResult.of(item.id, helper.draft(item.data))
    except AssistantError as exc:
        return BatchResult(id=item.id, error=str(exc))


_WORKER: Drafter | None = None


def _worker_init(kind: type[Drafter], settings: Settings) -> None:
    global _WORKER
    _WORKER = kind(settings)


def _worker_draft(item: Item) -> BatchResult:
    assert _WORKER is not None
    return _draft_one(_WORKER, item)


async def adraft_items(
    helper: Drafter, items: Iterable[Item], concurrency: int, workers: int | None = None
) -> AsyncIterator[BatchResult]:
    """Results as they finish. At most `concurrency` drafts in flight, so a long input never
    piles up in memory."""
    iterator = iter(items)
    workers = workers or os.cpu_count() or 1
    if helper.backend.parallel == "processes" and workers > 1:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(
            max_workers=workers,
            initializer=_worker_init,
            initargs=(type(helper), helper.settings),
        ) as pool:
            starts = (loop.run_in_executor(pool, _worker_draft, item) for item in iterator)
            async for result in _as_completed(starts, max(concurrency, workers * 4)):
                yield result
        return

    async def one(item: Item) -> BatchResult:
        try:
            return BatchResult.of(item.id, await helper.adraft(item.data))
        except AssistantError as exc:
            return BatchResult(id=item.id, error=str(exc))

    async for result in _as_completed((one(item) for item in iterator), concurrency):
        yield result


async def _as_completed(
    starts: Iterator[Awaitable[BatchResult]], window: int
) -> AsyncIterator[BatchResult]:
    """Start work from `starts` while fewer than `window` are in flight; yield each as it ends."""
    pending: set[asyncio.Future[BatchResult]] = set()
    for start in starts:
        pending.add(asyncio.ensure_future(start))
        if len(pending) >= window:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in finished:
                yield future.result()
    while pending:
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for future in finished:
            yield future.result()


# Summary ---------------------------------------------------------------------------------------


class Summary(BaseModel):
    drafted: int = 0
    failed: int = 0
    skipped: int = 0
    set_aside: int = 0
    """Unreadable lines of an earlier run's output, moved to `<out>.corrupt` and drafted again."""
    lint_clean: int = 0
    revisions: int = 0
    tokens: int = 0
    seconds: float = 0.0
    categories: dict[str, int] = Field(default_factory=dict)
    urgency: dict[str, int] = Field(default_factory=dict)
    signals: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)

    def add(self, result: BatchResult) -> None:
        if result.error is not None:
            self.failed += 1
            reason = result.error.split(":")[0][:80]
            self.errors[reason] = self.errors.get(reason, 0) + 1
            return
        self.drafted += 1
        self.lint_clean += bool(result.lint_ok)
        self.revisions += result.revisions
        self.tokens += (result.usage or {}).get("total_tokens", 0)
        c = result.classification or {}
        for counter, key in (
            (self.categories, c.get("category")),
            (self.urgency, c.get("urgency")),
        ):
            if key:
                counter[key] = counter.get(key, 0) + 1
        for signal in c.get("escalation_signals", []):
            self.signals[signal] = self.signals.get(signal, 0) + 1

    @property
    def lint_rate(self) -> float:
        return self.lint_clean / self.drafted if self.drafted else 0.0


class RateLimiter:
    """Requests per minute and tokens per minute over a sliding minute, shared by every draft a
    batch runs at once."""

    def __init__(self, rpm: int | None = None, tpm: int | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._requests: collections.deque[float] = collections.deque()
        self._tokens: collections.deque[tuple[float, int]] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._requests and now - self._requests[0] >= 60:
                    self._requests.popleft()
                while self._tokens and now - self._tokens[0][0] >= 60:
                    self._tokens.popleft()
                waits = []
                if self.rpm and len(self._requests) >= self.rpm:
                    waits.append(60 - (now - self._requests[0]))
                if self.tpm and sum(t for _, t in self._tokens) >= self.tpm:
                    waits.append(60 - (now - self._tokens[0][0]))
                if not waits:
                    self._requests.append(now)
                    return
                await asyncio.sleep(max(0.01, min(waits)))

    def record(self, tokens: int) -> None:
        if tokens:
            self._tokens.append((time.monotonic(), tokens))


# Running a batch -------------------------------------------------------------------------------

Progress = Callable[[int, int | None], None]
"""Called after each result with (done so far, how many to do, or None when unknown)."""


def run(
    helper: Drafter,
    source: str | Path,
    out: str | Path,
    *,
    concurrency: int = 8,
    workers: int | None = None,
    rpm: int | None = None,
    tpm: int | None = None,
    progress: Progress | None = None,
    report: str | Path | None = None,
) -> Summary:
    """Draft every email in `source` into the JSONL file `out`, skipping ids already there, and
    return the summary of the whole file (an HTML report too, when `report` names a file)."""
    started = time.perf_counter()
    if rpm or tpm:
        helper.backend.limit(RateLimiter(rpm, tpm))
    items = read_items(source)
    output = Output(out)
    skipped = len(output.done)
    total = count_items(source)
    todo = None if total is None else max(total - skipped, 0)

    async def drain() -> None:
        done = 0
        pending = (item for item in items if item.id not in output.done)
        async for result in adraft_items(helper, pending, concurrency, workers):
            output.write(result)
            done += 1
            if progress is not None:
                progress(done, todo)

    try:
        asyncio.run(drain())
    finally:
        output.close()
    summary = summarise(out)
    summary.skipped = skipped
    summary.set_aside = output.set_aside
    summary.seconds = time.perf_counter() - started
    if report is not None:
        write_report(summary, source, out, report)
    return summary


def write_report(summary: Summary, source: str | Path, out: str | Path, path: str | Path) -> None:
    page = (
        html_templates()
        .get_template("report.html.j2")
        .render(s=summary, source=source, out=out, generated=time.strftime("%Y-%m-%d %H:%M"))
    )
    Path(path).write_text(page, encoding="utf-8")


def _parse(line: bytes) -> BatchResult | None:
    try:
        return BatchResult.model_validate_json(line)
    except ValueError:  # not JSON, not UTF-8, or not a result
        return None


def summarise(path: str | Path) -> Summary:
    """The summary of a whole output file (what a resumed run reports covers every line it can
    read)."""
    summary = Summary()
    with Path(path).open("rb") as f:
        for line in f:
            result = _parse(line) if line.strip() else None
            if result is not None:
                summary.add(result)
    return summary
