"""YAML loading that remembers where every value came from.

``load_located(text, file)`` returns plain Python data plus a map from each value's path
(``("tools", "refund", "constraints", 0, "when")``) to its 1-based line, so that a schema error
reported by Pydantic as a path can be reported to a person as ``file:line``. Duplicate keys,
which plain PyYAML silently overwrites, are an error here: in a policy a silently dropped rule
is a security bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from proctor.errors import PolicyError, PolicyProblem

Path = tuple[str | int, ...]

_TOO_DEEP = "YAML nested too deeply; expected a policy a few levels deep"


@dataclass
class Located:
    """Data loaded from YAML, and the line of every path in it."""

    data: object
    file: str
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get(())


MAX_NODES = 200_000


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path, int] = {}
        self.problems: list[PolicyProblem] = []
        self._scalars = yaml.SafeLoader("")
        self._nodes = 0
        self._open: set[int] = set()  # ids of the collection nodes being built (alias cycles)

    def build(self, node: yaml.Node, path: Path) -> object:
        self._nodes += 1
        if self._nodes > MAX_NODES:  # aliases can expand a small file exponentially
            raise _TooLarge
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self._open:
                self._problem(node, path, "recursive alias: a value may not contain itself")
                return None
            self._open.add(id(node))
            try:
                return self._build_collection(node, path)
            finally:
                self._open.discard(id(node))
        return self._scalars.construct_object(node)

    def _build_collection(self, node: yaml.CollectionNode, path: Path) -> object:
        if isinstance(node, yaml.MappingNode):
            self._scalars.flatten_mapping(node)
            out: dict[str, object] = {}
            for key_node, value_node in node.value:
                key = self._scalars.construct_object(key_node)
                if not isinstance(key, str | int | float | bool):
                    self._problem(key_node, path, "mapping keys must be plain scalars")
                    continue
                skey = str(key)
                if skey in out:
                    first = self.lines.get((*path, skey))
                    self._problem(
                        key_node,
                        (*path, skey),
                        f"duplicate key {skey!r} (first defined on line {first}); "
                        "each key may appear once",
                    )
                    continue
                out[skey] = self.build(value_node, (*path, skey))
                self.lines[(*path, skey)] = key_node.start_mark.line + 1
            return out
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _problem(self, node: yaml.Node, path: Path, message: str) -> None:
        field = ".".join(str(p) for p in path)
        self.problems.append(PolicyProblem(self.file, node.start_mark.line + 1, field, message))


def load_located(text: str, file: str) -> Located:
    """Parse one YAML document; raise ``PolicyError`` with file:line on any syntax problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        msg = f"YAML syntax error: {exc.problem or exc.context}"
        raise PolicyError([PolicyProblem(file, line, "", msg)]) from exc
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(file, None, "", f"YAML error: {exc}")]) from exc
    except RecursionError:
        raise PolicyError([PolicyProblem(file, None, "", _TOO_DEEP)]) from None
    if node is None:
        raise PolicyError([PolicyProblem(file, 1, "", "the file is empty; expected a policy")])
    builder = _Builder(file)
    try:
        data = builder.build(node, ())
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(file, None, "", f"YAML error: {exc}")]) from exc
    except RecursionError:
        raise PolicyError([PolicyProblem(file, None, "", _TOO_DEEP)]) from None
    except _TooLarge:
        msg = f"the document expands to more than {MAX_NODES} values (alias bomb?)"
        raise PolicyError([PolicyProblem(file, None, "", msg)]) from None
    if builder.problems:
        raise PolicyError(builder.problems)
    return Located(data, file, builder.lines)
