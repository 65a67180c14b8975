"""``proctor serve`` freezes what start-up built out of the garbage collector's scans (a full
collection of the start-up heap stopped the event loop for 70 to 90 ms), and undoes it on
shutdown."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from proctor.server import create_app
from proctor.server._heap import YOUNG, settle, unsettle

from ._world import settings_for, write_policies


def test_settle_freezes_the_live_heap_and_widens_the_young_generation():
    before = gc.get_threshold()
    try:
        settle()
        assert gc.get_freeze_count() > 1000  # the modules, classes and tables loaded so far
        assert gc.get_threshold() == (YOUNG, before[1], before[2])
    finally:
        unsettle()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == (700, 10, 10)


def test_a_serving_app_settles_its_heap_once_started_and_unsettles_on_shutdown(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'g.db'}", write_policies(tmp_path))
    app = create_app(settings, settle_heap=True)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold()[0] == YOUNG
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] == 700


def test_an_app_not_asked_to_settle_leaves_the_collector_alone(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'g.db'}", write_policies(tmp_path))
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
