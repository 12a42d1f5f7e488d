"""Using the assistant as a library: lint a reply, classify a complaint, draft a reply.

Run: python examples/library_usage.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import assistant

HERE = Path(__file__).parent

# 1. Lint a reply an agent wrote.
report = assistant.lint("Our records show it was delivered. Sorry for any inconvenience.")
for finding in report.findings:
    print(f"{finding.rule} ({finding.severity}): {finding.text!r} -> {finding.suggestion}")
print("approvable:", report.ok)

# 2. Classify a complaint.
complaint = (HERE / "emails" / "03-cancel-after-dispatch.eml").read_bytes()
classification = assistant.classify(complaint)
print(
    classification.category.value,
    classification.urgency,
    [s.value for s in classification.escalation_signals],
)

# 3. Draft a reply with your own company profile and policy.
settings = assistant.Settings(
    company=assistant.CompanyProfile(name="Lumen Lamps", agent_name="Ravi", sign_off="Cheers"),
    policy=assistant.Policy(refund_requires_return=True, max_goodwill_credit=25),
)
helper = assistant.Assistant(settings)
result = helper.draft(complaint)
print(result.meta_goal)
print(result.reply)
print("lint clean:", result.lint.ok)


# 4. The same from async code (a helpdesk hook, a web handler).
async def main() -> None:
    drafted = await helper.adraft((HERE / "emails" / "04-broken-kettle.txt").read_text())
    print(drafted.classification.category.value, drafted.lint.ok)


asyncio.run(main())
