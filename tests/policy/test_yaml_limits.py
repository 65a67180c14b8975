"""A small file must not expand into a huge document (alias bombs fail to load)."""

from __future__ import annotations

import pytest

from proctor.errors import PolicyError
from proctor.policy import load_policy_text


def test_alias_bomb_is_refused_quickly():
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(PolicyError) as err:
        load_policy_text("\n".join(lines), "bomb.yaml")
    assert "alias bomb" in str(err.value)
    assert err.value.problems[0].file == "bomb.yaml"
