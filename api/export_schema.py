"""Print the GraphQL schema in SDL: `make schema` writes it to schema.graphql."""

from __future__ import annotations

from api.schema import schema


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
