"""The flow rules: a pure function from (tool plan, rules, arguments, session content) to hits.

Each rule is one small function; ``judge`` runs them all. Rule ids name the rule, the tool and
the argument (``flow.untrusted.send_money.recipient``) and each hit's ``seen`` carries the
provenance of the values it judged, with links to the content they matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from proctor.flow._index import Content, Piece
from proctor.flow._instructions import instruction_like
from proctor.flow._labels import Confidentiality, Provenance, SourceKind, Trust
from proctor.flow._normalize import normalize
from proctor.flow._provenance import Traced, leaves, trace, trace_argument
from proctor.flow._values import ADDRESS_KINDS, extract
from proctor.model import Autonomy, Flag, RuleHit, Verdict
from proctor.policy import ToolPlan
from proctor.policy._schema import FlowRules

_ROLE_BY_NAME: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("credential", r"(?:^|_)(?:password|passphrase|passcode|secret|token|api_?key|pin)$"),
        (
            "recipient",
            r"^(?:recipients?|to|cc|bcc|participants?|invitees?|attendees?|emails?|user_?emails?|"
            r"email_?address(?:es)?|phone(?:_?numbers?)?)$",
        ),
        ("destination", r"(?:^|_)(?:url|uri|link|domain|host|endpoint|webhook|destination)s?$"),
        ("account", r"(?:^|_)(?:account|iban|bic|swift|card)(?:_?(?:number|no|id))?$"),
        ("amount", r"^(?:amount|sum|total|price|quantity)$"),
        ("address", r"^(?:address|street|city|zip|zip_?code|postcode|postal_?code|country)$"),
        ("target", r"(?:^|_)(?:ids?|path|file|filename|channel|user|username)$"),
    )
)
SENSITIVE = frozenset(
    {"recipient", "destination", "account", "amount", "target", "credential", "address"}
)
DESTINATIONS = frozenset({"recipient", "destination", "account"})
_VERDICTS = {"allow": Verdict.ALLOW, "hold": Verdict.HOLD, "deny": Verdict.DENY}


def role_of(plan: ToolPlan, arg: str) -> str:
    """The declared role of an argument, or the role its name implies (``content`` if none)."""
    spec = plan.spec.args.get(arg)
    if spec is not None and spec.role is not None:
        return spec.role
    name = arg.lower()
    return next((role for role, rx in _ROLE_BY_NAME if rx.search(name)), "content")


def _strict(text: str) -> str:
    """Allowlists compare exactly: NFKC and case only. Look-alike letters are *different*
    destinations here (a Cyrillic letter a, U+0430, makes it someone else's domain); nothing is
    URL-decoded (a mail server would not decode ``%40`` either)."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _host(text: str) -> str | None:
    t = _strict(text).removeprefix("mailto:")
    if "://" not in t and "/" not in t and "@" in t:
        return t.rsplit("@", 1)[1] or None
    try:
        host = urlsplit(t if "://" in t else "//" + t).hostname
    except ValueError:
        return None
    return host or None


def allowlisted(value: object, rules: FlowRules) -> bool:
    """Is ``value`` an allowlisted account, or an email address or URL whose host is an
    allowlisted domain or one of its subdomains? Exact comparison (see ``_strict``)."""
    text = str(value)
    account = "".join(_strict(text).split())
    if any(account == "".join(_strict(a).split()) for a in rules.egress.accounts):
        return True
    host = _host(text)
    if host is None:
        return False
    host = host.removeprefix("www.")
    for d in rules.egress.domains:
        d = _strict(d).removeprefix("www.")
        if host == d or host.endswith("." + d):
            return True
    return False


class FlowContext:
    """Everything the rules look at for one pending call, with every argument traced once."""

    def __init__(
        self,
        plan: ToolPlan,
        rules: FlowRules,
        args: Mapping[str, object],
        contents: Sequence[Content],
    ) -> None:
        self.plan = plan
        self.rules = rules
        self.args = args
        self.contents = contents
        self.pieces: tuple[Piece, ...] = tuple(p for c in contents for p in c.pieces)
        self.by_link: dict[str, Piece] = {p.link: p for p in self.pieces}
        self.traced: dict[str, tuple[Traced, ...]] = {
            n: trace_argument(n, v, self.pieces) for n, v in args.items()
        }

    @property
    def writes(self) -> bool:
        return self.plan.autonomy >= Autonomy.WRITE

    @property
    def external(self) -> bool:
        return Flag.EXTERNAL in self.plan.spec.flags

    @property
    def anchored(self) -> bool:
        """Has the session recorded the principal's own words? Anchoring rules need them."""
        return any(p.kind is SourceKind.PRINCIPAL for p in self.pieces)

    def verdict(self, setting: str) -> Verdict:
        return _VERDICTS[setting]

    def hit(self, rule: str, setting: str, reason: str, bad: Sequence[Traced]) -> RuleHit:
        verdict = self.verdict(setting)
        approval = self.plan.flag_approval if verdict is Verdict.HOLD else None
        seen = {t.path: t.seen() for t in bad}
        return RuleHit(rule, verdict, reason, seen, approval)


def _describe(bad: Sequence[Traced]) -> str:
    parts = []
    for t in bad[:3]:
        where = ", ".join(t.links[:2]) or "nowhere"
        parts.append(f"{t.path}={str(t.value)[:60]!r} ({t.provenance}, {t.basis}: {where})")
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return "; ".join(parts) + more


def untrusted_arguments(ctx: FlowContext) -> list[RuleHit]:
    if not ctx.writes or ctx.rules.untrusted_arguments == "allow":
        return []
    hits = []
    for name, traced in ctx.traced.items():
        role = role_of(ctx.plan, name)
        if role not in SENSITIVE:
            continue
        bad = [
            t
            for t in traced
            if t.provenance is Provenance.UNTRUSTED
            and not (role in DESTINATIONS and allowlisted(t.value, ctx.rules))
        ]
        if bad:
            hits.append(
                ctx.hit(
                    f"flow.untrusted.{ctx.plan.name}.{name}",
                    ctx.rules.untrusted_arguments,
                    f"the {role} of {ctx.plan.name!r} comes only from untrusted content: "
                    + _describe(bad),
                    bad,
                )
            )
    return hits


def embedded_addresses(ctx: FlowContext) -> list[RuleHit]:
    if not ctx.writes or ctx.rules.embedded_addresses == "allow":
        return []
    hits = []
    for name, value in ctx.args.items():
        if role_of(ctx.plan, name) in SENSITIVE:
            continue
        bad: list[Traced] = []
        for path, leaf in leaves(value, name):
            if not isinstance(leaf, str):
                continue
            for found in extract(leaf):
                if found.kind not in ADDRESS_KINDS or allowlisted(found.value, ctx.rules):
                    continue
                t = trace(found.value, ctx.pieces, f"{path}<{found.kind}>")
                if t.provenance is Provenance.UNTRUSTED:
                    bad.append(t)
        if bad:
            hits.append(
                ctx.hit(
                    f"flow.embedded.{ctx.plan.name}.{name}",
                    ctx.rules.embedded_addresses,
                    f"{name!r} of {ctx.plan.name!r} carries an address or link found only in "
                    "untrusted content: " + _describe(bad),
                    bad,
                )
            )
    return hits


def instructions(ctx: FlowContext) -> list[RuleHit]:
    if not (ctx.writes or ctx.external) or ctx.rules.instructions == "allow":
        return []
    hits = []
    for name, traced in ctx.traced.items():
        bad = [t for t in traced if t.basis == "instructions"]
        for t in traced:
            if not ctx.rules.instruction_patterns:
                break
            if t in bad or t.basis in ("principal", "none") or not isinstance(t.value, str):
                continue
            phrase = instruction_like(normalize(t.value))
            if phrase:
                bad.append(
                    Traced(t.path, t.value, Provenance.UNTRUSTED, "instructions", t.links, phrase)
                )
        if bad:
            hits.append(
                ctx.hit(
                    f"flow.instructions.{ctx.plan.name}.{name}",
                    ctx.rules.instructions,
                    f"{name!r} of {ctx.plan.name!r} carries instruction-like text from untrusted "
                    "content, or a value such text names: " + _describe(bad),
                    bad,
                )
            )
    return hits


def _confidential(ctx: FlowContext, t: Traced, level: Confidentiality) -> bool:
    return any(
        (p := ctx.by_link.get(link)) is not None and p.label.confidentiality >= level
        for link in t.links
    )


def trifecta(ctx: FlowContext) -> list[RuleHit]:
    if not ctx.external or ctx.rules.trifecta == "allow":
        return []
    level = Confidentiality.parse(ctx.rules.confidential_from)
    untrusted = any(p.label.trust is Trust.UNTRUSTED for p in ctx.pieces)
    confidential = any(p.label.confidentiality >= level for p in ctx.pieces)
    if not (untrusted and confidential):
        return []
    dest_args = {n for n in ctx.traced if role_of(ctx.plan, n) in DESTINATIONS}
    bad = [
        t
        for n in dest_args
        for t in ctx.traced[n]
        if t.provenance is not Provenance.TRUSTED and not allowlisted(t.value, ctx.rules)
    ]
    if not bad:
        return []
    fetch = ctx.plan.autonomy < Autonomy.WRITE
    payload = [
        t
        for n, traced in ctx.traced.items()
        for t in traced
        if not (fetch and n in dest_args and t.provenance is not Provenance.GENERATED)
        and (t.provenance is Provenance.GENERATED or _confidential(ctx, t, level))
    ]
    if not payload:
        return []
    return [
        ctx.hit(
            f"flow.trifecta.{ctx.plan.name}",
            ctx.rules.trifecta,
            "lethal trifecta: the session read confidential data and untrusted content, and "
            f"{ctx.plan.name!r} would send data to a destination that is neither allowlisted nor "
            "named by the user or a system of record: " + _describe(bad),
            bad + payload[:3],
        )
    ]


_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9-]{4,}[a-z0-9]")
_DATE_OR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:t?\d{2}:\d{2}.*)?|\d{2}:\d{2}(?::\d{2})?")


def identifiers(text: str) -> list[str]:
    """Identifier-like tokens of a text: at least five digits, not a date or a time (card,
    passport, account and phone numbers), and the typed addresses in it."""
    norm = normalize(text)
    out = [f.value for f in extract(text) if f.kind in ("email", "iban", "phone")]
    for m in _IDENTIFIER.finditer(norm):
        tok = m.group()
        if sum(ch.isdigit() for ch in tok) >= 5 and not _DATE_OR_TIME.fullmatch(tok):
            out.append(tok)
    return out


def confidential_egress(ctx: FlowContext) -> list[RuleHit]:
    if not (ctx.writes and ctx.external) or ctx.rules.confidential_egress == "allow":
        return []
    if not any(p.label.trust is Trust.UNTRUSTED for p in ctx.pieces):
        return []  # nothing could have steered the agent
    level = Confidentiality.parse(ctx.rules.confidential_from)
    hits = []
    for name, value in ctx.args.items():
        if role_of(ctx.plan, name) in DESTINATIONS:
            continue
        bad: list[Traced] = []
        for path, leaf in leaves(value, name):
            if not isinstance(leaf, str):
                continue
            for tok in identifiers(leaf):
                t = trace(tok, ctx.pieces, f"{path}<{tok}>")
                if t.basis != "principal" and t.links and _confidential(ctx, t, level):
                    bad.append(t)
        if bad:
            hits.append(
                ctx.hit(
                    f"flow.confidential.{ctx.plan.name}.{name}",
                    ctx.rules.confidential_egress,
                    f"{name!r} of external {ctx.plan.name!r} carries confidential values the user "
                    "did not name: " + _describe(bad),
                    bad,
                )
            )
    return hits


def generated_targets(ctx: FlowContext) -> list[RuleHit]:
    if (
        Flag.IRREVERSIBLE not in ctx.plan.spec.flags
        or ctx.rules.generated_targets == "allow"
        or not ctx.anchored
    ):
        return []
    roles = {"target", "recipient", "account"}
    bad = [
        t
        for n, traced in ctx.traced.items()
        if role_of(ctx.plan, n) in roles
        for t in traced
        if t.provenance is Provenance.GENERATED
    ]
    if not bad:
        return []
    return [
        ctx.hit(
            f"flow.generated-target.{ctx.plan.name}",
            ctx.rules.generated_targets,
            f"irreversible {ctx.plan.name!r} names a target that appears nowhere in the session: "
            + _describe(bad),
            bad,
        )
    ]


def unanchored_payments(ctx: FlowContext) -> list[RuleHit]:
    if (
        Flag.MOVES_MONEY not in ctx.plan.spec.flags
        or ctx.rules.unanchored_payments == "allow"
        or not ctx.anchored
    ):
        return []
    every = [t for traced in ctx.traced.values() for t in traced]
    if any(t.basis == "principal" for t in every):
        return []
    return [
        ctx.hit(
            f"flow.unanchored.{ctx.plan.name}",
            ctx.rules.unanchored_payments,
            f"{ctx.plan.name!r} moves money, and the user named none of its arguments",
            every[:6],
        )
    ]


RULES = (
    untrusted_arguments,
    embedded_addresses,
    instructions,
    trifecta,
    confidential_egress,
    generated_targets,
    unanchored_payments,
)


def judge(ctx: FlowContext) -> list[RuleHit]:
    """Every flow rule's hits on one pending call, then one ALLOW hit carrying the provenance
    of every argument (so that decisions and the audit record always show it)."""
    hits = [h for rule in RULES for h in rule(ctx)]
    every = [t for traced in ctx.traced.values() for t in traced]
    summary = ", ".join(f"{t.path}={t.provenance}" for t in every[:12]) or "no arguments"
    hits.append(
        RuleHit(
            "flow.provenance",
            Verdict.ALLOW,
            f"argument provenance: {summary}",
            {t.path: t.seen() for t in every},
        )
    )
    return hits
