"""Monitor fixtures: a monitored world on each database (tests/conftest.py makes them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ._world import World, make_world


@pytest.fixture
def make(db_url) -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def build(**kwargs: Any) -> World:
        world = make_world(db_url, **kwargs)
        made.append(world)
        return world

    yield build
    for world in made:
        world.close()


@pytest.fixture
def world(make) -> World:
    return make()
