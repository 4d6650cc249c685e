"""Where the webhooks and the scheduler plug their commands and hooks into the CLI and app."""

from __future__ import annotations


def register() -> None:
    """Called once by the CLI before parsing arguments."""
