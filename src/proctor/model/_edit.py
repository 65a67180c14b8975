"""A reviewer's edit of a held call's arguments, as the agent is told of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class ArgChange:
    """One top-level argument a reviewer changed: ``old`` -> ``new``. ``kind``: ``changed``,
    ``added`` (``old`` is None: the agent did not pass it) or ``removed`` (``new`` is None)."""

    field: str
    old: Any
    new: Any
    kind: str = "changed"

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.field}: (absent) -> {self.new!r}"
        if self.kind == "removed":
            return f"{self.field}: {self.old!r} -> (removed)"
        return f"{self.field}: {self.old!r} -> {self.new!r}"


def diff_args(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[ArgChange, ...]:
    """The top-level arguments that differ between ``old`` and ``new``, by name. Values are
    compared by type and value: ``1`` and ``1.0`` or ``True`` differ (a schema may care)."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, _ABSENT), new.get(name, _ABSENT)
        if a is _ABSENT:
            out.append(ArgChange(name, None, b, "added"))
        elif b is _ABSENT:
            out.append(ArgChange(name, a, None, "removed"))
        elif type(a) is not type(b) or a != b:
            out.append(ArgChange(name, a, b))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ArgsEdit:
    """Reviewers changed the arguments of a held call before approving it. ``original``: what
    the agent asked for; ``args``: what was approved (and runs); ``changes``: the difference;
    ``by``: who edited (names, comma-separated when several did)."""

    original: Mapping[str, Any]
    args: Mapping[str, Any]
    changes: tuple[ArgChange, ...]
    by: str
    at: float | None = None

    @property
    def fields(self) -> frozenset[str]:
        """The names of the arguments that changed (added and removed ones included)."""
        return frozenset(c.field for c in self.changes)

    def summary(self) -> str:
        """``edited by dana: amount: 250.0 -> 50.0; to: 'a@x' -> 'b@x'``: for reviewers."""
        return f"edited by {self.by}: " + "; ".join(str(c) for c in self.changes)

    def told(self) -> str:
        """What the agent is told in words: which fields changed and their new values only,
        ``edited by dana: amount -> 50.0; note removed``. The old values are the agent's own
        (possibly injected) text: never repeated as if the reviewer had written them."""
        parts = [
            f"{c.field} removed" if c.kind == "removed" else f"{c.field} -> {c.new!r}"
            for c in self.changes
        ]
        return f"edited by {self.by}: " + "; ".join(parts)

    def values(self) -> dict[str, Any]:
        """Every argument value the edit holds, as one JSON-like object (for ``with_values``)."""
        return {
            "original": dict(self.original),
            "args": dict(self.args),
            "old": [c.old for c in self.changes],
            "new": [c.new for c in self.changes],
        }

    def with_values(self, values: Mapping[str, Any]) -> ArgsEdit:
        """This edit with the values of ``values`` (``values()`` as a data view changed it:
        masked or tokenized); the fields that changed, their kinds and the editors stay."""
        return ArgsEdit(
            original=dict(values["original"]),
            args=dict(values["args"]),
            changes=tuple(
                ArgChange(c.field, old, new, c.kind)
                for c, old, new in zip(self.changes, values["old"], values["new"], strict=True)
            ),
            by=self.by,
            at=self.at,
        )

    def withheld(self) -> ArgsEdit:
        """This edit with every value replaced by ``[withheld]`` (when it cannot be masked)."""
        w = "[withheld]"
        return ArgsEdit(
            original=dict.fromkeys(self.original, w),
            args=dict.fromkeys(self.args, w),
            changes=tuple(
                ArgChange(
                    c.field, None if c.old is None else w, None if c.new is None else w, c.kind
                )
                for c in self.changes
            ),
            by=self.by,
            at=self.at,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: what the HTTP gateway and the MCP proxy tell the agent."""
        return {
            "by": self.by,
            "at": self.at,
            "original": dict(self.original),
            "args": dict(self.args),
            "changes": [
                {"field": c.field, "old": c.old, "new": c.new, "kind": c.kind} for c in self.changes
            ],
        }
