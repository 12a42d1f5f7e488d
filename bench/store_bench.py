"""The audit log under load: decisions written per second, the p99 latency of one approval with
100,000 records already stored, and the database size per 1,000 decisions.

    python bench/store_bench.py [--prefill 100000] [--approvals 500]

An approval here is what the CLI and the web page do: the draft saved as pending (one
transaction), then approved (a second), on the real SQLite file in WAL mode.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _stats import percentile

import assistant
from assistant import Settings
from assistant.review.store import new_id

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefill", type=int, default=100_000)
    parser.add_argument("--approvals", type=int, default=500)
    args = parser.parse_args()
    emails = sorted((ROOT / "examples" / "emails").iterdir())

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "audit.sqlite3"
        helper = assistant.Assistant(Settings(audit_db=db, agent="bench"))
        results = [helper.draft(helper.read_file(p)) for p in emails]

        start = time.perf_counter()
        for i in range(1000):
            helper.approve(results[i % len(results)])
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
            helper.approve(results[i % len(results)])
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


if __name__ == "__main__":
    main()
