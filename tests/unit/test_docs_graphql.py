"""Every GraphQL operation the documentation shows is valid against the committed
`schema.graphql`: the ```graphql blocks of README.md and docs/*.md, and the `"query"` strings
sent by the ```sh blocks (curl bodies). And the README's "API at a glance" names every root
field, so a new query or mutation cannot go unmentioned there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
# A JSON "query" member inside a shell block, as curl sends it: its string literal, decoded.
QUERY_MEMBER = re.compile(r'"query":\s*("(?:[^"\\]|\\.)*")')


def blocks(page: Path, language: str) -> list[tuple[int, str]]:
    """(line, text) of each fenced block of `language` on the page, indented ones included."""
    text = page.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(text):
        if fence.group(2) == language:
            body = re.sub(rf"^{fence.group(1)}", "", fence.group(3), flags=re.M)
            found.append((text.count("\n", 0, fence.start()) + 1, body))
    return found


def operations() -> list[tuple[str, str]]:
    """(where, document) of every operation the documentation shows."""
    found = []
    for page in PAGES:
        name = page.relative_to(REPO).as_posix()
        for line, body in blocks(page, "graphql"):
            found.append((f"{name}:{line}", body))
        for line, body in blocks(page, "sh"):
            for member in QUERY_MEMBER.finditer(body):
                found.append((f"{name}:{line} (curl)", json.loads(member.group(1))))
    return found


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((REPO / "schema.graphql").read_text(encoding="utf-8"))


def problems(schema: GraphQLSchema, document: str) -> list[str]:
    try:
        return [error.message for error in validate(schema, parse(document))]
    except Exception as exc:  # a syntax error: graphql-core raises it from parse
        return [str(exc)]


def test_the_documentation_shows_operations_of_both_kinds() -> None:
    where = [w for w, _ in operations()]

    assert len(where) > 20
    assert any(w.endswith("(curl)") for w in where)


@pytest.mark.parametrize(("where", "document"), operations(), ids=lambda v: str(v)[:40])
def test_every_documented_operation_is_valid_against_the_schema(
    schema: GraphQLSchema, where: str, document: str
) -> None:
    assert problems(schema, document) == [], where


def test_the_validator_refuses_a_field_the_schema_does_not_have(schema: GraphQLSchema) -> None:
    stale = "query { afterSales(first: 20, filter: {}) { edges { node { id } } } }"

    assert problems(schema, stale) == [
        "Unknown argument 'filter' on field 'Query.afterSales'. Did you mean 'after'?"
    ]


def test_the_readme_lists_every_query_and_mutation(schema: GraphQLSchema) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    glance = readme.split("### The API at a glance", 1)[1].split("\n\n", 2)[1]
    named = set(re.findall(r"`(\w+)", glance))
    bulk = "and `…Bulk` forms" in glance
    assert schema.query_type is not None and schema.mutation_type is not None
    fields = [*schema.query_type.fields, *schema.mutation_type.fields]

    missing = [
        f for f in fields if f not in named and not (bulk and f.removesuffix("Bulk") in named)
    ]

    assert missing == []
