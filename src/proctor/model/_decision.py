"""Decisions are values: what each step concluded, and the verdict they add up to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from proctor.model._enums import Step, StepStatus, Verdict


@dataclass(frozen=True, slots=True)
class ApprovalRequirement:
    """Who must approve a held call: how many distinct people, from which groups."""

    approvers: int
    groups: tuple[str, ...]

    @staticmethod
    def merge(reqs: Iterable[ApprovalRequirement]) -> ApprovalRequirement | None:
        """The strictest requirement that satisfies all of ``reqs``: most approvers, all groups."""
        approvers = 0
        groups: list[str] = []
        for req in reqs:
            approvers = max(approvers, req.approvers)
            groups.extend(g for g in req.groups if g not in groups)
        return ApprovalRequirement(approvers, tuple(groups)) if approvers else None


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched: its id, the verdict it asks for, why, and the values it saw."""

    rule_id: str
    verdict: Verdict
    reason: str
    seen: Mapping[str, object] = field(default_factory=dict)
    approval: ApprovalRequirement | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one pipeline step concluded. An errored step carries a DENY (fail closed)."""

    step: Step
    verdict: Verdict
    status: StepStatus = StepStatus.OK
    hits: tuple[RuleHit, ...] = ()
    note: str = ""

    @staticmethod
    def ok(step: Step, hits: Iterable[RuleHit] = ()) -> StepResult:
        hits = tuple(hits)
        verdict = max((h.verdict for h in hits), default=Verdict.ALLOW)
        return StepResult(step, verdict, StepStatus.OK, hits)

    @staticmethod
    def error(step: Step, rule_id: str, exc: BaseException | str) -> StepResult:
        """A check that crashed: DENY, with the error named in the reason."""
        what = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        hit = RuleHit(rule_id, Verdict.DENY, f"check failed, denying (fail closed): {what}")
        return StepResult(step, Verdict.DENY, StepStatus.ERROR, (hit,))

    @staticmethod
    def skipped(step: Step, note: str) -> StepResult:
        return StepResult(step, Verdict.ALLOW, StepStatus.SKIPPED, (), note)


class _Memo:
    """A slot for what a decision derives from its steps, kept outside the dataclass's fields
    (so equality, hashing, ``repr``, ``replace`` and ``asdict`` never see it): ``hits`` is read
    five to ten times per call on the gateway's path (the records, the receipt, the answer),
    and each read walked every step. A decision is frozen, so it is computed once; a changed
    decision (``replace``, ``combine``) is a new object, which computes its own."""

    __slots__ = ("_hits",)
    _hits: tuple[RuleHit, ...]


@dataclass(frozen=True, slots=True)
class Decision(_Memo):
    """The verdict on one call, with every step's result. DENY beats HOLD beats ALLOW."""

    tool: str
    verdict: Verdict
    steps: tuple[StepResult, ...]
    approval: ApprovalRequirement | None = None
    policy: str = ""

    @staticmethod
    def combine(tool: str, steps: Iterable[StepResult], policy: str = "") -> Decision:
        """Fold step results into one decision. Nothing matched and nothing allowed is DENY."""
        steps = tuple(steps)
        if not steps:
            hit = RuleHit("default-deny", Verdict.DENY, "no step ran")
            steps = (StepResult(Step.VERDICT, Verdict.DENY, StepStatus.ERROR, (hit,)),)
        verdict = max(s.verdict for s in steps)
        approval = None
        if verdict is Verdict.HOLD:
            approval = ApprovalRequirement.merge(
                h.approval
                for s in steps
                for h in s.hits
                if h.verdict is Verdict.HOLD and h.approval
            ) or ApprovalRequirement(1, ())
        return Decision(tool, verdict, steps, approval, policy)

    @property
    def hits(self) -> tuple[RuleHit, ...]:
        """The rules that decided: those whose verdict equals the final verdict."""
        try:
            return self._hits
        except AttributeError:  # first read (or unpickled): computed once, see ``_Memo``
            hits = tuple(h for s in self.steps for h in s.hits if h.verdict is self.verdict)
            object.__setattr__(self, "_hits", hits)
            return hits

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(h.rule_id for h in self.hits)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(h.reason for h in self.hits)

    @property
    def seen(self) -> dict[str, Mapping[str, object]]:
        """The argument values each deciding rule looked at, by rule id."""
        return {h.rule_id: h.seen for h in self.hits if h.seen}

    def waived(self, by: RuleHit) -> Decision:
        """This decision with its holds lifted by ``by``, an ALLOW hit naming who lifted them
        (the approvers, or a break-glass override). Each HOLD hit becomes an ALLOW hit that
        says so; ``by`` is added as a verdict step. A DENY stays a DENY."""
        if by.verdict is not Verdict.ALLOW:
            raise ValueError(f"a waiver must be an ALLOW hit, got {by.verdict} ({by.rule_id})")
        steps: list[StepResult] = []
        for s in self.steps:
            if s.verdict is Verdict.HOLD:
                hits = tuple(
                    RuleHit(
                        h.rule_id, Verdict.ALLOW, f"{h.reason} [lifted by {by.rule_id}]", h.seen
                    )
                    if h.verdict is Verdict.HOLD
                    else h
                    for h in s.hits
                )
                verdict = max((h.verdict for h in hits), default=Verdict.ALLOW)
                s = StepResult(s.step, verdict, s.status, hits, s.note)
            steps.append(s)
        steps.append(StepResult.ok(Step.VERDICT, [by]))
        return Decision.combine(self.tool, steps, self.policy)

    def step(self, step: Step) -> StepResult | None:
        return next((s for s in self.steps if s.step is step), None)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW
