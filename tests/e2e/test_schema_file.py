"""The committed schema.graphql is the API under review: it must match the code."""

from __future__ import annotations

from pathlib import Path

from api.export_schema import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")

    current = sdl()

    assert committed == current, "schema.graphql is stale: run `make schema` and commit it"
