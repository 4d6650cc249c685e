"""GraphiQL, served entirely by the service so it works without internet (docs/graphql.md)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "graphiql"


def page() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def routes() -> list[BaseRoute]:
    return [Mount("/graphiql/static", app=StaticFiles(directory=STATIC), name="graphiql")]
