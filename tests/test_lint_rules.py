"""Every rule proves itself: its own must-flag and must-not-flag examples, one test each."""

from __future__ import annotations

import pytest

from assistant import CompanyProfile, LintSettings, Policy, Settings
from assistant.lint import Linter, Rule, builtin_rules

# Structural rules about policy only fire when the policy restricts; examples run under this one.
# Each rule is tested alone: the tone model has its own examples (tests/test_learned.py).
EXAMPLE_SETTINGS = Settings(
    lint=LintSettings(model=False),
    policy=Policy(refund_requires_return=True, max_goodwill_credit=50),
    company=CompanyProfile(
        website="https://help.northwind.example",
        support_email="help@northwind.example",
        phone="+44 20 7946 0000",
    ),
)
RULES = builtin_rules()


def _lint(rule: Rule, example: str):  # type: ignore[no-untyped-def]
    """The example linted by its rule alone, beside the email it answers (if the rule has one),
    for the business it is written for."""
    settings = EXAMPLE_SETTINGS
    if rule.business:
        company = settings.company.model_copy(update={"business": rule.business})
        settings = settings.model_copy(update={"company": company})
    return Linter(settings, rules=[rule]).lint(example, email=rule.email)


def _cases(kind: str) -> list[tuple[Rule, str]]:
    return [(rule, example) for rule in RULES for example in getattr(rule, kind)]


def _ids(case: tuple[Rule, str]) -> str:
    rule, example = case
    return f"{rule.id}:{example[:40]}"


@pytest.mark.parametrize("case", _cases("must_flag"), ids=_ids)
def test_rule_flags_its_examples(case: tuple[Rule, str]) -> None:
    rule, example = case
    report = _lint(rule, example)
    assert [f.rule for f in report.findings] and all(f.rule == rule.id for f in report.findings), (
        example
    )
    for f in report.findings:
        assert example[f.start : f.end] == f.text


@pytest.mark.parametrize("case", _cases("must_not_flag"), ids=_ids)
def test_rule_leaves_its_counter_examples_alone(case: tuple[Rule, str]) -> None:
    rule, example = case
    report = _lint(rule, example)
    assert report.findings == [], [(f.rule, f.text) for f in report.findings]


def test_situation_rules_need_the_email() -> None:
    # Without the email a reply is judged alone: nothing says which situation it must fit.
    for rule in RULES:
        if rule.id.startswith("situation-"):
            assert rule.email
            settings = EXAMPLE_SETTINGS.model_copy(
                update={"company": CompanyProfile(business="airline")}
            )
            assert Linter(settings, rules=[rule]).lint(rule.must_flag[0]).findings == []


def test_rule_ids_are_unique_and_every_rule_is_documented() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.message.strip() and rule.source
        if rule.kind != "substitution":
            assert rule.suggestion, rule.id
