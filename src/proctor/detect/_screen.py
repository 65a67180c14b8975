"""``ContentScreen``: the content detectors in the gate, as the policy's ``detectors:`` says.

Two places, one object (the gate builds it beside ``FlowControl``):

- **ingest** (``screen``): every untrusted content is scanned and judged. The judgement feeds
  the session's multi-turn ``SessionScore``; a hostile judgement is remembered for the session
  and, under ``strip`` or ``quarantine``, changes what the model sees (hostile passages cut out,
  or the whole content withheld by raising ``HostileContentError``).
- **each call** (``flow``, step 4): the string arguments are scanned; after hostile content
  (``hold``/``deny``) or past the session's escalation thresholds, calls at or above the
  policy's ``from_autonomy`` are held or denied. Every hit carries the findings' explanations.

Fail closed: a detector that crashes is an error finding and makes the judgement hostile; a
screen that crashes at ingest yields an error judgement (hostile), and in ``flow`` the gate
turns the exception into a DENY.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from proctor.detect._document import ContentKind, Document, Segment, json_strings
from proctor.detect._judge import Judgement, judge
from proctor.detect._registry import DetectorRegistry, error_finding
from proctor.detect._session import Escalation, SessionScore
from proctor.errors import HostileContentError
from proctor.flow import Labeled
from proctor.flow._index import Content
from proctor.flow._ingest import plain, spotlight
from proctor.hooks import GateHooks
from proctor.model import Autonomy, Finding, RuleHit, Session, Step, StepResult, ToolCall, Verdict
from proctor.policy import PolicySet
from proctor.policy._schema import DetectorRules

if TYPE_CHECKING:
    from proctor.gate import Gate

log = logging.getLogger("proctor.detect")
TOOL_PREFIX = "tool:"
_MAX_REASONS = 3


@dataclass
class _SessionState:
    score: SessionScore
    hostile: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # id, source


def _findings_seen(j: Judgement) -> list[dict[str, object]]:
    return [f.to_dict() for f in sorted(j.findings, key=lambda f: -f.score)[:_MAX_REASONS]]


class ContentScreen(GateHooks):
    """Scans untrusted content at ingest and the arguments of each call, per policy."""

    def __init__(self, policies: PolicySet, base: DetectorRegistry | None = None) -> None:
        self.policies = policies
        self._base = base
        self._registries: dict[tuple[tuple[str, ...] | None, float], DetectorRegistry] = {}
        self._sessions: dict[str, _SessionState] = {}
        self._lock = threading.Lock()
        self._hooks: list[GateHooks] = []  # told of every judgement (``on_findings``)

    def attach(self, gate: Gate) -> None:
        self._hooks = [h for h in gate.hooks if h is not self]

    async def _judged(self, session: Session, source: str, judgement: Judgement) -> None:
        """Tell the other hooks (metrics, monitoring) what was judged; never raises."""
        if not judgement.findings and not judgement.hostile:
            return
        for hook in self._hooks:
            try:
                await hook.on_findings(session, source, judgement.findings, judgement.hostile)
            except Exception:
                log.exception("on_findings hook %s failed", type(hook).__name__)

    # -- configuration -------------------------------------------------------------------

    def registry(self, rules: DetectorRules) -> DetectorRegistry:
        """The registry a policy's ``detectors:`` section asks for (built once, then cached)."""
        key = (tuple(rules.only) if rules.only is not None else None, rules.threshold)
        with self._lock:
            reg = self._registries.get(key)
        if reg is None:
            base = self._base if self._base is not None else DetectorRegistry.default()
            dets = base.detectors
            if rules.only is not None:
                dets = tuple(d for d in dets if d.id in rules.only)
            reg = DetectorRegistry(
                dets,
                hostile_threshold=rules.threshold,
                near_miss_threshold=min(base.near_miss_threshold, rules.threshold),
                max_depth=base.max_depth,
                max_decoded_chars=base.max_decoded_chars,
            )
            with self._lock:
                reg = self._registries.setdefault(key, reg)
        return reg

    def _rules(self, session: Session) -> DetectorRules:
        return self.policies.require(session.agent, session.environment).spec.detectors

    def _state(self, session: Session, rules: DetectorRules) -> _SessionState:
        with self._lock:
            st = self._sessions.get(session.id)
            if st is None:
                st = _SessionState(SessionScore(hold_at=rules.hold_at, contain_at=rules.contain_at))
                self._sessions[session.id] = st
            return st

    def session_score(self, session: Session) -> SessionScore | None:
        """The session's multi-turn score, if anything was scanned in it."""
        with self._lock:
            st = self._sessions.get(session.id)
            return st.score if st is not None else None

    def forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    # -- ingest --------------------------------------------------------------------------

    def check_value(self, registry: DetectorRegistry, value: object) -> Judgement:
        """Scan and judge any content: text as text (HTML, Markdown and JSON sniffed), other
        values string leaf by string leaf. Never raises: a failure is an error judgement."""
        try:
            if isinstance(value, str):
                return registry.check(value)
            data = plain(value)
            segs = [Segment(s, w) for w, s in json_strings(data, "$") if s.strip()]
            doc = Document(repr(data), ContentKind.JSON, segs)
            return registry.judge(registry.scan_document(doc))
        except Exception as exc:  # fail closed: a screen that cannot judge calls it hostile
            return judge([error_finding("detect.screen", exc)])

    async def screen(self, session: Session, content: object, labeled: Labeled) -> Labeled:
        """Judge untrusted ``content`` and return what the model may see (raises
        ``HostileContentError`` when the policy withholds it)."""
        rules = self._rules(session)
        if not rules.enabled or labeled.trusted:
            return labeled
        judgement = self.check_value(self.registry(rules), content)
        await self._judged(session, labeled.source, judgement)
        st = self._state(session, rules)
        with self._lock:
            st.score = st.score.observe(judgement)
            if judgement.hostile:
                st.hostile.append((labeled.id, labeled.source, judgement.reasons[:_MAX_REASONS]))
        if not judgement.hostile:
            return labeled
        withhold = rules.on_hostile == "quarantine" or (
            rules.on_hostile == "strip"
            and (labeled.source.startswith(TOOL_PREFIX) or not isinstance(content, str))
        )
        if withhold:
            raise HostileContentError(labeled.source, labeled.id, judgement.reasons[:_MAX_REASONS])
        if rules.on_hostile == "strip" and isinstance(content, str):
            pol = self.policies.require(session.agent, session.environment)
            shell = Content(labeled.id, labeled.source, labeled.label, ())
            reg = self.registry(rules)
            text = strip(content, judgement, lambda t: self.check_value(reg, t))
            return replace(labeled, text=spotlight(text, shell, pol.spec.flow.spotlight))
        return labeled

    # -- each call (step 4) --------------------------------------------------------------

    async def flow(self, session: Session, call: ToolCall) -> StepResult | None:
        pol = self.policies.require(session.agent, session.environment)
        rules = pol.spec.detectors
        plan = pol.tools.get(call.tool)
        if not rules.enabled or plan is None:
            return None
        hits: list[RuleHit] = []
        gated = plan.spec.autonomy >= rules.from_autonomy
        with self._lock:
            st = self._sessions.get(session.id)
            hostile = list(st.hostile) if st is not None else []
            score = st.score if st is not None else None
        if hostile and gated and rules.on_hostile in ("hold", "deny"):
            verdict = Verdict.HOLD if rules.on_hostile == "hold" else Verdict.DENY
            ids = [h[0] for h in hostile]
            why = "; ".join(hostile[-1][2]) or "judged hostile"
            hits.append(
                RuleHit(
                    "detect.hostile_content",
                    verdict,
                    f"the session read content judged hostile ({len(hostile)} text(s), last from "
                    f"{hostile[-1][1]}): {why}",
                    seen={"contents": ids, "sources": [h[1] for h in hostile]},
                )
            )
        if score is not None and score.escalation is Escalation.CONTAIN:
            if plan.spec.autonomy > Autonomy.DRAFT:
                hits.append(
                    RuleHit("detect.session_contain", Verdict.DENY, score.explanation, seen={})
                )
        elif score is not None and score.escalation is Escalation.HOLD and gated:
            hits.append(RuleHit("detect.session_hold", Verdict.HOLD, score.explanation, seen={}))
        if rules.arguments != "allow":
            judgement = self.check_arguments(self.registry(rules), call.args)
            await self._judged(session, "arguments", judgement)
            if judgement.hostile:
                verdict = Verdict.HOLD if rules.arguments == "hold" else Verdict.DENY
                hits.append(
                    RuleHit(
                        "detect.arguments",
                        verdict,
                        "the call's arguments are judged hostile: "
                        + ("; ".join(judgement.reasons[:_MAX_REASONS]) or "detector error"),
                        seen={"findings": _findings_seen(judgement)},
                    )
                )
        return StepResult.ok(Step.FLOW, hits) if hits else None

    def check_arguments(self, registry: DetectorRegistry, args: Mapping[str, object]) -> Judgement:
        try:
            return registry.judge(registry.scan_arguments(args))
        except Exception as exc:  # fail closed
            return judge([error_finding("detect.screen", exc)])


def strip(text: str, judgement: Judgement, recheck: Callable[[str], Judgement]) -> str:
    """``text`` with the lines that carry hostile findings cut out and marked, if what remains
    is no longer hostile (``recheck`` judges it again); otherwise, or when no finding can be
    located in the text itself (an HTML part, a decoded layer, a detector error), the whole
    text goes."""
    whole = f"[proctor removed this text: judged hostile ({_why(judgement)})]"
    spans = sorted(
        _line(text, f.span)
        for f in judgement.findings
        if not f.errored
        and not f.where
        and 0 <= f.span[0] < f.span[1] < len(text) + 1
        and f.span[1] - f.span[0] < len(text) // 2
        and f.score >= 0.35
    )
    if not spans:
        return whole
    out, last = [], 0
    for start, end in spans:
        start = max(start, last)
        if start >= end:
            continue
        out.append(text[last:start])
        out.append("[removed: judged hostile]")
        last = end
    out.append(text[last:])
    kept = "".join(out)
    return whole if recheck(kept).hostile else kept


def _line(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """The span widened to the whole lines it touches."""
    start = text.rfind("\n", 0, span[0]) + 1
    end = text.find("\n", span[1])
    return start, len(text) if end < 0 else end


def _why(judgement: Judgement) -> str:
    first: Finding | None = max(judgement.findings, key=lambda f: f.score, default=None)
    return f"{first.detector} {first.rule}".strip() if first is not None else "no finding"
