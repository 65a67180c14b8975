"""The model's view of content: records out of scope dropped, classified fields in the form the
policy allows, sensitive values in free text masked, tokenized or withheld.

Structured content (JSON-like: dicts, lists, dataclasses, Pydantic models) is walked once; a
declared resource's output given as text must be JSON, and is walked the same way (anything
else is withheld). Records of a resource whose tenant or scope does not match the session are
dropped whole. A classified field's value takes its field's form; every other string, every
key, and the values of fields shown in clear go through the detectors (all such strings in one
scan, joined by a separator no pattern crosses). In a field shown in clear, only what is more
sensitive than the field's class is masked (a key or an SSN pasted into a name).

Before the scan, the clear values a tool was given for tokens (``retoken``) become those tokens
again wherever the tool echoed them.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.errors import DataAccessError
from proctor.flow._ingest import plain
from proctor.model import Finding, Session
from proctor.policy._data_schema import DataField, Resource
from proctor.vault._classes import SENSITIVITY, DataClass, Form
from proctor.vault._detector import Match
from proctor.vault._digest import KeyedDigest
from proctor.vault._mask import infer_kind, kind_name, mask
from proctor.vault._report import DataReport, Drop, FieldRead
from proctor.vault._retoken import NO_TOKENS, Retokenizer
from proctor.vault._rules import Rules, session_value
from proctor.vault._scan import TextScanner
from proctor.vault._vault import TokenBatch

SEPARATOR = "\n\x00\n"  # between joined strings: no detector's pattern matches across it
_DROP = object()
_BIG_NUMBER = 10_000_000  # integers this large are scanned too (a card number as a number)


@dataclass(frozen=True, slots=True)
class View:
    """What the model may see of some content, and what that took."""

    content: object
    report: DataReport
    changed: bool


@dataclass
class _Slot:
    parent: Any  # the dict or list holding the string (a one-item list for bare content)
    key: Any  # its key or index in parent; for a key slot, the key itself
    text: str
    where: str
    floor: DataClass | None = None  # a clear field's class: finds no more sensitive stay
    is_key: bool = False


@dataclass
class _Walk:
    session: Session
    rules: Rules
    batch: TokenBatch
    resource: str | None = None
    reads: Counter[tuple[str | None, str, DataClass, Form]] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    slots: list[_Slot] = field(default_factory=list)
    changed: bool = False

    def read(self, resource: str | None, name: str, cls: DataClass, form: Form) -> None:
        self.reads[(resource, name, cls, form)] += 1


def _classified(ctx: _Walk, name: str, fd: DataField, value: object, where: str) -> object:
    """A classified field's value in the form the rules give it (NONE is handled by the key).
    Values in clear are registered by the caller, with the field's class as their floor."""
    cls = DataClass(fd.data_class)
    form = ctx.rules.field_form(ctx.resource or "", name, cls)
    floor = cls if form is Form.CLEAR else None
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            path = f"{where}.{k}"
            out[k] = _classified(ctx, name, fd, v, path)
            if floor is not None:
                _register(ctx, out, k, out[k], path, floor)
            _register_key(ctx, out, k, path)
        return out
    if isinstance(value, list):
        items: list[object] = []
        for i, v in enumerate(value):
            items.append(_classified(ctx, name, fd, v, f"{where}[{i}]"))
            if floor is not None:
                _register(ctx, items, i, items[-1], f"{where}[{i}]", floor)
        return items
    if value is None:
        return None
    ctx.read(ctx.resource, name, cls, form)
    if form is Form.CLEAR:
        return value
    text = value if isinstance(value, str) else str(value).lower()
    kind = fd.kind or infer_kind(text) or kind_name(name)
    ctx.changed = True
    if form is Form.TOKENIZED and cls is not DataClass.SECRET:
        return ctx.batch.tokenize(kind, cls, text)
    return mask(kind, text, secret=cls is DataClass.SECRET)


def _walk(ctx: _Walk, node: object, where: str, res: Resource | None) -> object:
    """The node as the model may see it; unclassified scalars, clear classified values and
    every key are registered for scanning."""
    if isinstance(node, dict):
        out: dict[str, object] = {}
        for key, value in node.items():
            path = f"{where}.{key}"
            fd = res.fields.get(key) if res is not None else None
            if fd is not None and res is not None:
                cls = DataClass(fd.data_class)
                form = ctx.rules.field_form(ctx.resource or "", key, cls)
                if form is Form.NONE:
                    ctx.read(ctx.resource, key, cls, Form.NONE)
                    ctx.changed = True
                    continue
                out[key] = _classified(ctx, key, fd, value, path)
                if form is Form.CLEAR:  # the class is cleared here, not what else hides in it
                    _register(ctx, out, key, out[key], path, cls)
            elif res is not None and res.unlisted == "none" and not _nested(value):
                ctx.changed = True  # an allowlist of fields: this one is not on it
                continue
            else:
                out[key] = _walk(ctx, value, path, res)
                _register(ctx, out, key, out[key], path)
            _register_key(ctx, out, key, path)
        return out
    if isinstance(node, list):
        items: list[object] = []
        for i, item in enumerate(node):
            items.append(_walk(ctx, item, f"{where}[{i}]", res))
            _register(ctx, items, i, items[-1], f"{where}[{i}]")
        return items
    return node


def _nested(value: object) -> bool:
    """True for an object, or a list holding objects or lists: walked into even when unlisted,
    since the fields inside may be listed."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(isinstance(v, dict | list) for v in value)


def _register(
    ctx: _Walk, parent: Any, key: Any, value: object, where: str, floor: DataClass | None = None
) -> None:
    if isinstance(value, str) and value:
        ctx.slots.append(_Slot(parent, key, value, where, floor))
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _BIG_NUMBER:
        ctx.slots.append(_Slot(parent, key, str(value), where, floor))


def _register_key(ctx: _Walk, parent: dict[str, object], key: str, where: str) -> None:
    if isinstance(key, str) and key:
        ctx.slots.append(_Slot(parent, key, key, where, is_key=True))


def _structured(resource: str, text: str) -> object:
    """A resource's output given as text: its JSON, or ``DataAccessError`` (fail closed)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise DataAccessError(
            f"output for resource {resource!r} is text that is not JSON: resource output "
            "must be structured; withheld (fail closed)"
        ) from None


def _rename_keys(d: dict[str, object], names: Mapping[str, str]) -> None:
    """Rename keys of ``d`` in place, in order; two keys that mask alike both stay."""
    items = list(d.items())
    d.clear()
    for key, value in items:
        new = names.get(key, key)
        name, n = new, 2
        while name in d:
            name, n = f"{new} ({n})", n + 1
        d[name] = value


class Viewer:
    """Applies one policy's data rules to content for one session."""

    def __init__(self, scanner: TextScanner, digest: KeyedDigest) -> None:
        self.scanner = scanner
        self.digest = digest

    def view(
        self,
        session: Session,
        rules: Rules,
        batch: TokenBatch,
        content: object,
        source: str,
        *,
        principal: bool,
        known: tuple[str, ...] = (),
        retoken: Retokenizer = NO_TOKENS,
    ) -> View:
        tool = source.removeprefix("tool:") if source.startswith("tool:") else None
        named = rules.by_tool.get(tool) if tool is not None and not principal else None
        ctx = _Walk(session, rules, batch, named[0] if named else None)
        drops: list[Drop] = []
        pii = rules.scan_pii and not principal
        holder: list[object] = [content]
        if named is not None:  # a resource's records: scoped and classified, even as text
            data = _structured(named[0], content) if isinstance(content, str) else plain(content)
            data = self._scope(ctx, named[0], named[1], data, drops)
            holder[0] = _walk(ctx, data, "$", named[1])
            _register(ctx, holder, 0, holder[0], "$")
        elif isinstance(content, str):
            _register(ctx, holder, 0, content, "")
        else:
            holder[0] = _walk(ctx, plain(content), "$", None)
            _register(ctx, holder, 0, holder[0], "$")
        self._scan(ctx, pii, known, retoken)
        new = holder[0]
        changed = ctx.changed or bool(drops)
        if changed and isinstance(content, str) and not isinstance(new, str):
            new = json.dumps(new, ensure_ascii=False)  # text in, text out
        report = DataReport(
            "ingest",
            source,
            tuple(
                FieldRead(r, f, c, fm, n) for (r, f, c, fm), n in sorted(ctx.reads.items(), key=str)
            ),
            tuple(drops),
            tuple(ctx.findings),
        )
        return View(new if changed else content, report, changed)

    # -- records --------------------------------------------------------------------------

    def _scope(
        self, ctx: _Walk, name: str, res: Resource, data: object, drops: list[Drop]
    ) -> object:
        if res.records is not None:
            holder = data.get(res.records) if isinstance(data, dict) else None
            if not isinstance(holder, list) or not isinstance(data, dict):
                raise DataAccessError(
                    f"output for resource {name!r} has no list under {res.records!r}; "
                    "withheld (fail closed)"
                )
            return {**data, res.records: self._keep(ctx, name, res, holder, drops)}
        if isinstance(data, list):
            return self._keep(ctx, name, res, data, drops)
        kept = self._keep(ctx, name, res, [data], drops)
        return kept[0] if kept else {}

    def _keep(
        self, ctx: _Walk, name: str, res: Resource, records: list[Any], drops: list[Drop]
    ) -> list[Any]:
        kept: list[Any] = []
        dropped: dict[str, tuple[int, set[str], set[str]]] = {}
        for rec in records:
            reason, fld, owner = self._out_of_scope(ctx.session, res, rec)
            if reason is None:
                kept.append(rec)
                continue
            n, fields, owners = dropped.get(reason, (0, set(), set()))
            if fld:
                fields.add(fld)
            if owner is not None:
                owners.add(self.digest(owner))
            dropped[reason] = (n + 1, fields, owners)
        for reason, (n, fields, owners) in dropped.items():
            drops.append(Drop(name, reason, n, tuple(sorted(fields)), tuple(sorted(owners))))
        return kept

    @staticmethod
    def _out_of_scope(
        session: Session, res: Resource, rec: object
    ) -> tuple[str | None, str, str | None]:
        """(reason, field, the record's value) when ``rec`` is out of scope, else None."""
        if not isinstance(rec, dict):
            return "malformed", "", None
        if res.tenant_field is not None:
            owner = rec.get(res.tenant_field)
            if owner is None or isinstance(owner, dict | list) or str(owner) != session.tenant:
                return "tenant", res.tenant_field, None if owner is None else str(owner)
        for fld, ref in res.scope.items():
            expected = session_value(session, ref)
            if expected is None:
                return "unscoped", fld, None
            got = rec.get(fld)
            if got is None or isinstance(got, dict | list) or str(got) != expected:
                return "scope", fld, None if got is None else str(got)
        return None, "", None

    # -- free text ------------------------------------------------------------------------

    def _scan(self, ctx: _Walk, pii: bool, known: tuple[str, ...], retoken: Retokenizer) -> None:
        if not ctx.slots:
            return
        before = [s.text for s in ctx.slots]
        if retoken:
            for s in ctx.slots:
                s.text = retoken(s.text)
        unit: dict[str, int] = {}  # each distinct text is scanned once (keys of many records)
        for s in ctx.slots:
            unit.setdefault(s.text, len(unit))
        texts = list(unit)
        joined = SEPARATOR.join(texts)
        starts: list[int] = []
        pos = 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + len(SEPARATOR)
        matches = self.scanner.scan(joined, known, pii=pii)
        per_text: dict[int, list[Match]] = {}
        for m in matches:
            i = bisect.bisect_right(starts, m.start) - 1
            end = starts[i] + len(texts[i])
            if m.start >= end:
                continue
            rel = dataclasses.replace(m, start=m.start - starts[i], end=min(m.end, end) - starts[i])
            per_text.setdefault(i, []).append(rel)
        renames: dict[int, tuple[dict[str, object], dict[str, str]]] = {}
        for i, slot in enumerate(ctx.slots):
            found = per_text.get(unit[slot.text], [])
            if slot.floor is not None:  # the policy shows the field's class here in clear
                rank = SENSITIVITY[slot.floor]
                found = [m for m in found if SENSITIVITY[m.data_class] > rank]
            new = self._apply(ctx, slot, found) if found else slot.text
            if new == before[i]:
                continue
            ctx.changed = True
            if slot.is_key:  # after every value is written: values are found by their key
                renames.setdefault(id(slot.parent), (slot.parent, {}))[1][slot.key] = new
            else:
                slot.parent[slot.key] = new
        if renames:
            for d, names in renames.values():
                _rename_keys(d, names)
            moved = sorted(
                ((old, new) for _, names in renames.values() for old, new in names.items()),
                key=lambda p: -len(p[0]),
            )
            ctx.findings = [
                dataclasses.replace(f, where=_moved(f.where, moved)) for f in ctx.findings
            ]

    @staticmethod
    def _apply(ctx: _Walk, slot: _Slot, found: list[Match]) -> str:
        text = slot.text
        parts: list[str] = []
        last = 0
        for m in found:
            value = text[m.start : m.end]
            form = ctx.rules.class_form(m.data_class)
            if m.secret and form not in (Form.MASKED, Form.NONE):
                form = Form.MASKED  # a secret never reaches the model in clear or as a token
            ctx.read(None, f"text.{m.kind}", m.data_class, form)
            ctx.findings.append(m.finding(text, slot.where))
            if form is Form.CLEAR:
                continue
            if form is Form.MASKED:
                shown = m.masked(value)
            elif form is Form.TOKENIZED:
                shown = ctx.batch.tokenize(m.kind, m.data_class, value)
            else:
                shown = f"[{m.kind} withheld]"
            parts += [text[last : m.start], shown]
            last = m.end
        parts.append(text[last:])
        return "".join(parts)


def _moved(where: str, moved: list[tuple[str, str]]) -> str:
    """A finding's path with its keys as the model sees them (never a masked key in clear)."""
    for old, new in moved:
        where = where.replace(old, new)
    return where
