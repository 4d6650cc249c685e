"""The serving process settles its heap once its app is built (api/server.py,
`settle_heap`): what is alive then is frozen out of the cycle collector's walks and the
youngest generation is collected less often. Checked in a process of its own, as `aftersales
serve` runs it (`ServeConfig.load`), since freezing is for the life of a process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.server import GC_YOUNG_THRESHOLD

pytestmark = pytest.mark.live  # a process of its own, as `aftersales serve`

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc
from aftersales.settings import load_settings
from api.app import ServeConfig
before = (gc.get_freeze_count(), gc.get_threshold()[0])
config = ServeConfig(load_settings({"DATABASE_URL": "sqlite:///tmp/unused.db"}))
config.load()
print(before[0], before[1], gc.get_freeze_count(), gc.get_threshold()[0])
"""


def test_the_server_process_freezes_its_startup_heap_and_collects_young_objects_less_often() -> (
    None
):
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    frozen_before, young_before, frozen, young = map(int, done.stdout.split())
    assert (frozen_before, young_before) == (0, 700)  # Python's defaults, until the app is built
    # The schema, the app and the modules behind them: tens of thousands of objects.
    assert frozen > 20_000
    assert young == GC_YOUNG_THRESHOLD


def test_building_the_app_in_process_leaves_the_collector_alone() -> None:
    """Tests and tools build the app in their own process: nothing of it is frozen for good."""
    probe = PROBE.replace(
        "config.load()", "from api.app import create_app; create_app(config.settings)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[2:] == ["0", "700"]
