"""How well offline drafts fit their complaints, under each example business.

    python bench/draft_eval.py [--data ../shared/eval/complaints-dev.jsonl] [--show N]

Each dev complaint is drafted under the business that received it (airline, telecom, software, food delivery;
shops and the rest under retail), with that business's example config and knowledge folder;
the project's own example complaints are drafted under theirs. Printed per business:
- the share of drafts the linter passes (no error finding),
- the share of drafts with a situation finding (a reply that does not fit the email; target 0),
- commitments per draft (and how many claim an action already done),
- direct questions answered from the knowledge base, and answered or promised an answer,
- distinct replies and distinct sentences per 100 drafts,
- draft latency p50/p99 with and without the knowledge folder.
`--show N` prints the first N drafts beside their complaints, for reading.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant

from _data import load_jsonl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "complaints-dev.jsonl"
# Who received each dev complaint, by the source's company field.
_BUSINESS = [
    ("airline", re.compile(r"airline|southwest|delta|jetblue|united|american", re.I)),
    ("telecom", re.compile(r"cox|comcast|sprint|verizon|att|tmobile|xfinity", re.I)),
    (
        "software",
        re.compile(r"dropbox|rockstar|playstation|hulu|godaddy|microsoft", re.I),
    ),
    (
        "food_delivery",
        re.compile(
            r"chipotle|papajohns|dominos|ubereats|doordash|grubhub|deliveroo|just ?eat", re.I
        ),
    ),
]
BUSINESSES = ("airline", "telecom", "software", "food_delivery", "retail")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def business_of(company: str) -> str:
    return next((name for name, pattern in _BUSINESS if pattern.search(company)), "retail")


def _helper(business: str, knowledge: bool) -> assistant.Assistant:
    config = ROOT / "examples" / business / "assistant.toml"
    settings = assistant.load_settings(config)
    if not knowledge:
        settings = settings.model_copy(update={"knowledge": type(settings.knowledge)()})
    return assistant.Assistant(settings)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()

    items: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in load_jsonl(args.data):
        items[business_of(row.get("company", ""))].append((row["id"], row["text"]))
    for business in BUSINESSES[:-1]:
        for path in sorted((ROOT / "examples" / business / "emails").iterdir()):
            items[business].append((path.name, path.read_text()))
    for path in sorted((ROOT / "examples" / "emails").iterdir()):
        items["retail"].append((path.name, path.read_text()))

    shown = 0
    print(
        f"{'business':<13} {'drafts':>6} {'lint ok':>7} {'situation':>9} {'commit/draft':>12} {'done':>5} "
        f"{'q answered (kb)':>15} {'q taken up':>10} {'replies/100':>11} {'sent./100':>9} "
        f"{'p50 kb':>7} {'p99 kb':>7} {'p50 none':>8} {'p99 none':>8}"
    )
    for business in BUSINESSES:
        rows = items[business]
        helper = _helper(business, knowledge=True)
        bare = _helper(business, knowledge=False)
        bare.draft(rows[0][1])  # load the models before timing
        helper.draft(rows[0][1])
        with_kb, without_kb = [], []
        situation = commitments = done = questions = from_kb = taken_up = clean = 0
        replies, sentences = set(), set()
        for row_id, text in rows:
            start = time.perf_counter()
            bare.draft(text)
            without_kb.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = helper.draft(text)
            with_kb.append(time.perf_counter() - start)
            rules = [f.rule for f in result.lint.findings]
            situation += any(r.startswith("situation-") for r in rules)
            clean += result.lint.ok
            commitments += len(result.commitments)
            done += sum(c.done for c in result.commitments)
            asked = result.classification.situation.questions
            questions += len(asked)
            retrieved = helper.retrieve(result.email, result.classification)
            from_kb += sum(1 for a in retrieved.answers if a.document)
            taken_up += len(asked) * ("situation-unanswered-question" not in rules)
            replies.add(result.reply)
            sentences.update(s.strip() for s in _SENTENCE.findall(result.reply) if s.strip())
            if shown < args.show:
                shown += 1
                print(f"\n=== {business} {row_id} [{result.classification.category.value}]")
                print(text.strip())
                print("---")
                print(result.reply)
                print("notes:", result.notes, "findings:", rules)
        n = len(rows)
        print(
            f"{business:<13} {n:>6} {clean / n:>7.0%} {situation / n:>9.0%} {commitments / n:>12.2f} {done:>5} "
            f"{f'{from_kb}/{questions}':>15} {f'{taken_up}/{questions}':>10} "
            f"{100 * len(replies) / n:>11.0f} {100 * len(sentences) / n:>9.0f} "
            f"{1000 * _percentile(with_kb, 0.5):>5.0f}ms {1000 * _percentile(with_kb, 0.99):>5.0f}ms "
            f"{1000 * _percentile(without_kb, 0.5):>6.0f}ms {1000 * _percentile(without_kb, 0.99):>6.0f}ms"
        )


if __name__ == "__main__":
    main()
