"""The audit log under load: decisions written per second, the p99 latency of one approval with
100,000 records already stored, and the database size per 1,000 decisions.

    python bench/store_bench.py [--prefill 100000] [--approvals 500] [--writers 8 --writes 20000]

An approval here is what the CLI and the web page do: the draft saved as pending (one
transaction), then approved (a second), on the real SQLite file in WAL mode. Last, --writers
processes write --writes transactions between them to one fresh log (approvals of 2 writes
each), and the WAL and database sizes after them are printed beside the records found.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _stats import percentile

import assistant
from assistant import AuditLog, Settings
from assistant.review.store import new_id

ROOT = Path(__file__).resolve().parent.parent


def approve(helper: assistant.Assistant, result: assistant.DraftResult) -> None:
    # The agent confirms what the reply promises, as approval asks of every draft.
    helper.approve(result, confirmed=result.commitments)


def _writer(db: str, approvals: int) -> int:
    helper = assistant.Assistant(Settings(audit_db=Path(db), agent="writer"))
    result = helper.draft(helper.read_file(sorted((ROOT / "examples" / "emails").iterdir())[0]))
    for _ in range(approvals):
        approve(helper, result)
    return approvals


def concurrent(writers: int, writes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "audit.sqlite3"
        AuditLog(db).close()  # created and migrated once, before the writers start
        each = writes // 2 // writers  # an approval is two transactions
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=writers) as pool:
            written = sum(pool.map(_writer, [str(db)] * writers, [each] * writers))
        seconds = time.perf_counter() - start
        wal = Path(f"{db}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        found = assistant.Assistant(Settings(audit_db=db)).audit.count()
        print(
            f"{writers} writers, {written * 2:,} writes in {seconds:.1f} s: WAL {wal_size / 2**20:.1f} MiB, "
            f"database {db.stat().st_size / 2**20:.1f} MiB, records {found:,} of {written:,} approved"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefill", type=int, default=100_000)
    parser.add_argument("--approvals", type=int, default=500)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=20_000)
    args = parser.parse_args()
    emails = sorted((ROOT / "examples" / "emails").iterdir())

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "audit.sqlite3"
        helper = assistant.Assistant(Settings(audit_db=db, agent="bench"))
        results = [helper.draft(helper.read_file(p)) for p in emails]

        start = time.perf_counter()
        for i in range(1000):
            approve(helper, results[i % len(results)])
        rate = 1000 / (time.perf_counter() - start)
        helper.audit.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_per_1000 = db.stat().st_size

        # Fill to --prefill records in bulk (one transaction), copies of real records with new ids.
        template = helper.history(limit=len(results))
        log = helper.audit
        log.db.execute("BEGIN")
        for i in range(args.prefill - log.count()):
            record = template[i % len(template)].model_copy(update={"id": new_id()})
            log._write(log.db, record)
        log.db.execute("COMMIT")
        log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stored = log.count()
        total_size = db.stat().st_size

        latencies = []
        for i in range(args.approvals):
            t0 = time.perf_counter()
            approve(helper, results[i % len(results)])
            latencies.append(time.perf_counter() - t0)

    p50 = statistics.median(latencies) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    print(f"store_bench: SQLite WAL, synchronous=NORMAL, {len(results)} example drafts")
    print(
        f"decisions written: {rate:,.0f} approvals/s (each: pending + approved, two transactions)"
    )
    print(f"with {stored:,} records stored: one approval p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    print(
        f"database size: {size_per_1000 / 1024:,.0f} KiB per 1,000 decisions "
        f"({total_size / stored * 1000 / 1024:,.0f} KiB per 1,000 at {stored:,})"
    )
    concurrent(args.writers, args.writes)


if __name__ == "__main__":
    main()
