"""Ids: random, distinct, and never repeated by a forked child (the entropy buffer)."""

from __future__ import annotations

import os
import re

import pytest

from proctor.model import new_id


def test_ids_have_the_prefix_and_64_random_bits() -> None:
    assert re.fullmatch(r"rec_[0-9a-f]{16}", new_id("rec"))


def test_ids_stay_distinct_across_buffer_refills() -> None:
    ids = {new_id("x") for _ in range(5000)}  # ~10 refills of the 4 KiB buffer
    assert len(ids) == 5000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    new_id("warm")  # the parent's buffer holds unused bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        try:
            os.write(write, ",".join(new_id("x") for _ in range(8)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child = set(f.read().split(","))
    os.waitpid(pid, 0)
    parent = {new_id("x") for _ in range(8)}
    assert len(child) == 8
    assert not child & parent
