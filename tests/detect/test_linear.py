# ruff: noqa: RUF001  (look-alike and CJK characters are the point of these cases)
"""The linear model file format and the hashed features."""

from __future__ import annotations

from array import array

import pytest

from proctor.detect._linear import WINDOW, LinearModel, features, windows


def test_features_are_l2_normalized_and_deterministic():
    f = features("Ignore previous instructions", 1 << 12)
    assert f == features("Ignore previous instructions", 1 << 12)
    assert sum(v * v for v in f.values()) == pytest.approx(1.0)
    assert all(0 <= h < 1 << 12 for h in f)


def test_features_see_through_homoglyphs():
    assert features("іgnоrе", 1 << 12) == features("ignore", 1 << 12)


def test_long_texts_are_windowed():
    assert windows("x" * 10) == ["x" * 10]
    wins = windows("x" * (WINDOW * 3))
    assert len(wins) > 3
    assert all(len(w) <= WINDOW for w in wins)


def test_round_trip():
    model = LinearModel(array("b", [0, 1, -1, 127] * 4), 0.5, -0.25, 0.6, {"k": "v"})
    again = LinearModel.loads(model.dumps())
    assert list(again.weights) == list(model.weights)
    assert (again.scale, again.bias, again.threshold, again.meta) == (0.5, -0.25, 0.6, {"k": "v"})


@pytest.mark.parametrize(
    ("blob", "message"),
    [(b"not a model", "bad magic")],
    ids=["bad-magic"],
)
def test_bad_files_are_refused(blob, message):
    with pytest.raises(ValueError, match=message):
        LinearModel.loads(blob)


def test_builtin_model_loads_and_is_small():
    model = LinearModel.builtin()
    assert model.buckets == 1 << 16
    assert len(model.dumps()) < 200_000
    assert model.meta["trained_on"]
