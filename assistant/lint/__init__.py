"""Lint: a reply in, a `LintReport` out. Catches blaming, defensive, non-apologetic, grudging and
condescending phrasing, missing ownership or next steps, and promises beyond policy."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from ..classify import classify_offline
from ..config import Settings
from ..intake.facts import amounts_in
from ..models import Coverage, Email, Finding, LintReport, Severity, Situation
from ..textmatch import Offsets, Prefilter, by_sentence, spelt_out, unmask_marks, unmasked
from .context import Context, strip_markers
from .rules import CompiledPattern, CompiledRule, Rule, builtin_rules, compiled_rules
from .semantic import Family as SemanticFamily
from .semantic import semantic_layer
from .structure import CHECKS, Known
from .tone import Family, tone_hits

__all__ = ["Known", "Linter", "Rule", "builtin_rules", "strip_markers"]

Layer = Literal["pattern", "structure", "semantic", "model", "llm"]
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def _straight(text: str) -> str:
    """Curly apostrophes as straight ones, so rules need one spelling; same length, same offsets.
    (Three replaces: `str.translate` with a table is far slower on a long text.)"""
    return text.replace("’", "'").replace("‘", "'").replace("ʼ", "'")


class Linter:
    def __init__(
        self, settings: Settings | None = None, rules: Iterable[Rule] | None = None
    ) -> None:
        self.settings = settings or Settings()
        ignored = set(self.settings.lint.ignore)
        self._severity = dict(self.settings.lint.severity)
        chosen = compiled_rules() if rules is None else tuple(CompiledRule(r) for r in rules)
        self.rules = [c for c in chosen if c.rule.id not in ignored]
        self._compiled = {c.rule.id: c for c in self.rules}
        self._patterns: list[CompiledPattern] = [
            p for c in self.rules if c.rule.kind != "structure" for p in c.patterns
        ]
        self._prefilter = Prefilter([p.source for p in self._patterns])
        self._structure = [c.rule for c in self.rules if c.rule.kind == "structure"]
        self._ignored = ignored
        self._known = Known(
            policy=self.settings.policy,
            company=self.settings.company,
            business=self.settings.business,
        )
        self.semantic = (
            semantic_layer(self.settings.lint.semantic_threshold)
            if self.settings.lint.semantic
            else None
        )

    def lint(
        self,
        text: str,
        *,
        allowed_amounts: frozenset[float] = frozenset(),
        email: str | None = None,
        exempt: bool = True,
        drafted: bool = False,
    ) -> LintReport:
        """`email` is the customer's message the reply answers: the tone model reads each
        sentence beside it, so a reply that contradicts or doubts the customer is seen.
        `exempt=False` for text a model wrote: its quotations and lint-ignore markers exempt
        nothing. Gate rules (links, numbers, money, card details) never honour them.
        `drafted=True` for a draft under review (as drafted or as edited): a link or number the
        profile lacks is an error there, and only a warning in a reply the agent wrote."""
        normal = _straight(text)
        lowered = normal.lower()
        # A few characters change length when lowered; then offsets would drift, so match as is.
        same_length = len(lowered) == len(normal)
        ctx = Context(normal, lowered if same_length else None, exempt=exempt)
        found: list[Finding] = []
        seen: set[tuple[str, int, int]] = set()
        # The text with its contractions spelt out ("aren't" as "are not"): every rule also
        # matches its own contractions, so one reading serves both spellings; spans map back to
        # the text as written.
        readings: list[tuple[str, str | None, Offsets | None]] = []
        spelt = spelt_out(normal)
        if spelt is None:
            readings.append((normal, lowered if same_length else None, None))
        else:
            spelt_lowered = spelt[0].lower()
            same = len(spelt_lowered) == len(spelt[0])
            readings.append((spelt[0], spelt_lowered if same else None, spelt[1]))
        # Read through hidden and look-alike characters and defanged links too.
        marks = unmask_marks(normal, lowered)
        plain = by_sentence(normal, unmasked, marks)
        if plain is not None:
            readings.append((plain[0], plain[0].lower(), plain[1]))
        prefilter = self._prefilter
        for reading, reading_lowered, where in readings:
            scan = prefilter.scan(reading_lowered or reading.lower())
            for index in prefilter.candidates("", scan):
                pattern = self._patterns[index]
                rule = pattern.rule
                # Where a match may begin is known only when offsets in the lowered text hold.
                starts = prefilter.starts(index, scan) if reading_lowered is not None else None
                if starts == []:
                    continue
                for start, end in pattern.spans(reading, reading_lowered, starts):
                    if start == end:
                        continue
                    if where is not None:
                        start, end = where[start], where[end - 1] + 1
                    if (rule.id, start, end) in seen:
                        continue
                    seen.add((rule.id, start, end))
                    if not rule.gate and (
                        ctx.is_excluded(start, end) or ctx.is_suppressed(rule.id, start)
                    ):
                        continue
                    if self._excepted(self._compiled[rule.id], ctx, start, end):
                        continue
                    found.append(
                        self._finding(
                            rule, text, ctx, start, end, pattern.suggestion, "pattern", drafted
                        )
                    )
        if self.semantic is not None:
            found.extend(self._semantic_findings(text, ctx, found))
        if self.settings.lint.model:
            found.extend(self._model_findings(text, ctx, email, found))
        known = self._known
        if email is not None and not allowed_amounts:
            allowed_amounts = amounts_in(email)
        if allowed_amounts or email is not None:
            known = replace(
                known, allowed_amounts=allowed_amounts, email=email, reading=_reading(email)
            )
        for rule in self._structure:
            spans = CHECKS[rule.id](normal, ctx, known)
            if rule.gate and plain is not None:
                where = plain[1]
                read = CHECKS[rule.id](plain[0], Context(plain[0], exempt=False), known)
                spans = [*spans, *((where[a], where[b - 1] + 1) for a, b in read if b > a)]
            for start, end in dict.fromkeys(spans):
                if rule.gate or not ctx.is_suppressed(rule.id, start):
                    found.append(
                        self._finding(
                            rule, text, ctx, start, end, rule.suggestion, "structure", drafted
                        )
                    )
        return LintReport(findings=_dedupe(found))

    def _model_findings(
        self, text: str, ctx: Context, email: str | None, found: list[Finding]
    ) -> list[Finding]:
        findings = []
        coverage = Coverage(found)
        for hit in tone_hits(ctx, email, self._ignored):
            family = hit.family
            if ctx.is_suppressed(family.id, hit.start) or coverage.covers(
                family.category, hit.start, hit.end
            ):
                continue
            findings.append(
                self._learned_finding(
                    family,
                    hit.severity,
                    text,
                    ctx,
                    (hit.start, hit.end),
                    "model",
                    f"{family.message} (tone model: {hit.probability:.0%})",
                )
            )
        return findings

    def _learned_finding(
        self,
        family: Family | SemanticFamily,
        severity: Severity,
        text: str,
        ctx: Context,
        span: tuple[int, int],
        layer: Layer,
        message: str,
    ) -> Finding:
        """A finding of a learned layer: a family's sentence, its message and better phrasing."""
        start, end = span
        line, column = ctx.line_col(start)
        return Finding(
            rule=family.id,
            category=family.category,
            severity=self._severity.get(family.id, severity),
            start=start,
            end=end,
            text=text[start:end],
            message=message,
            suggestion=family.suggestion,
            layer=layer,
            line=line,
            column=column,
        )

    def _semantic_findings(self, text: str, ctx: Context, found: list[Finding]) -> list[Finding]:
        assert self.semantic is not None
        # What the patterns already caught in a sentence, the semantic layer does not repeat.
        covered = {(f.category, ctx.sentence(f.start, f.end)[0]) for f in found}
        findings = []
        for hit in self.semantic.check(ctx.text, ctx, covered):
            family = hit.family
            if family.id in self._ignored or ctx.is_suppressed(family.id, hit.start):
                continue
            findings.append(
                self._learned_finding(
                    family,
                    family.severity,
                    text,
                    ctx,
                    (hit.start, hit.end),
                    "semantic",
                    f"{family.message} (semantic layer: {hit.probability:.0%} alike)",
                )
            )
        return findings

    @staticmethod
    def _excepted(compiled: CompiledRule, ctx: Context, start: int, end: int) -> bool:
        if not compiled.exceptions:
            return False
        begin, finish = ctx.sentence(start, end)
        for exception in compiled.exceptions:
            for m in exception.finditer(ctx.text, begin, finish):
                if m.start() < end and start < m.end():
                    return True
        return False

    def _finding(
        self,
        rule: Rule,
        text: str,
        ctx: Context,
        start: int,
        end: int,
        suggestion: str | None,
        layer: Layer,
        drafted: bool,
    ) -> Finding:
        severity = self._severity.get(rule.id)
        if severity is None:
            relaxed = None if drafted else rule.own_words_severity
            severity = relaxed or rule.severity
        line, column = ctx.line_col(start)
        return Finding(
            rule=rule.id,
            category=rule.category,
            severity=severity,
            start=start,
            end=end,
            text=text[start:end],
            message=rule.message,
            suggestion=suggestion,
            layer=layer,
            line=line,
            column=column,
        )


def _reading(email: str | None) -> Situation | None:
    """The situation the reply must fit, read from the customer's email."""
    if email is None:
        return None
    parsed = Email(body=email, raw=email)
    return classify_offline(parsed).situation


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One pattern finding per overlapping span and category: the most severe, then the longest."""
    if len(findings) < 2:
        return findings
    ordered = sorted(
        findings, key=lambda f: (_SEVERITY_RANK[f.severity], -(f.end - f.start), f.start, f.rule)
    )
    kept: list[Finding] = []
    # Per category, the pattern findings kept so far, by start: they never overlap one another,
    # so a new one overlaps a kept one only if it overlaps a neighbour (linear in findings).
    taken: dict[str, list[tuple[int, int]]] = {}
    for f in ordered:
        if f.layer == "pattern":
            spans = taken.setdefault(f.category, [])
            i = bisect.bisect_left(spans, (f.start, f.end))
            if (i and spans[i - 1][1] > f.start) or (i < len(spans) and spans[i][0] < f.end):
                continue
            spans.insert(i, (f.start, f.end))
        kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end, f.rule))
