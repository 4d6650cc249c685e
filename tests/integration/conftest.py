"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.clock import Clock
from tests.support.hostile_world import World, hostile_world


@pytest.fixture
async def hostile(database: str, clock: Clock) -> AsyncIterator[World]:
    """Two syncing shops and a hostile TikTok API (tests/support/hostile_world.py)."""
    async for world in hostile_world(clock):
        yield world
