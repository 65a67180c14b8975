"""Flow for an approve-with-edit: a reviewer's value must not launder untrusted content.

A reviewer is a trusted person, so a value they type is theirs: it needs no provenance from the
session (a value that appears nowhere, ``generated``, is the reviewer's own). But a reviewer can
be steered too: the held call's context shows what the agent read, and a value copied from an
injected email into an edit would otherwise run with a person's approval and no flow check at
all. So each leaf of each *changed* argument is traced against everything the session saw, and
one the session saw only in untrusted content (or that instruction-like text named) refuses the
edited call: DENY ``flow.edited.<tool>.<argument>``. An allowlisted destination (the policy's
``flow.egress``) is exempt, as it is for the agent. Unchanged arguments keep the provenance the
approvers reviewed when the call was held, and are not judged again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from proctor.flow._index import Content
from proctor.flow._labels import Provenance
from proctor.flow._provenance import trace_argument
from proctor.flow._rules import DESTINATIONS, allowlisted, role_of
from proctor.model import RuleHit, Verdict
from proctor.policy import ToolPlan
from proctor.policy._schema import FlowRules


def edited_values(
    plan: ToolPlan,
    rules: FlowRules,
    args: Mapping[str, object],
    fields: Collection[str],
    contents: Sequence[Content],
) -> list[RuleHit]:
    """A DENY hit per changed argument (``fields``) that carries a value found only in
    untrusted content; none when the policy's flow rules are off or allow untrusted
    arguments."""
    if not rules.enabled or rules.untrusted_arguments == "allow":
        return []
    pieces = tuple(p for c in contents for p in c.pieces)
    hits = []
    for name in sorted(fields):
        if name not in args:  # removed: nothing to trace
            continue
        role = role_of(plan, name)
        bad = [
            t
            for t in trace_argument(name, args[name], pieces)
            if t.provenance is Provenance.UNTRUSTED
            and not (role in DESTINATIONS and allowlisted(t.value, rules))
        ]
        if not bad:
            continue
        where = ", ".join(dict.fromkeys(link for t in bad for link in t.links[:2]))
        hits.append(
            RuleHit(
                f"flow.edited.{plan.name}.{name}",
                Verdict.DENY,
                f"the edited {name!r} of {plan.name!r} is a value the session saw only in "
                f"untrusted content ({where}): an edit cannot launder it; deny the request, "
                "or edit it to a value of your own",
                {t.path: t.seen() for t in bad},
            )
        )
    return hits
