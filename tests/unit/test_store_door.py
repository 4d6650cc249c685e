"""One door into the store (aftersales/store/uow.py): only `store/uow.py` and `store/db.py` open
connections or transactions. Everything else goes through `uow()` or `reading()`, and an ORM
query anywhere names the connection it runs on (`using_db`), so that none runs on the ambient one.

Read from the source of every module of the service and its tools, imports inside functions
included; no exceptions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersales.store import models

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aftersales", "api", "webhooks", "scheduler", "bench")
DOORS = {Path("aftersales/store/uow.py"), Path("aftersales/store/db.py")}
# What opens a connection or a transaction, by name.
OPENERS = {"connections", "in_transaction", "_in_transaction", "acquire_connection"}
# The models, and their managers' methods that run (or build) a query.
MODELS = {
    name
    for name, value in vars(models).items()
    if isinstance(value, type) and issubclass(value, models.Model) and value is not models.Model
}
MANAGER = {
    "all",
    "annotate",
    "bulk_create",
    "bulk_update",
    "create",
    "exclude",
    "exists",
    "filter",
    "first",
    "get",
    "get_or_create",
    "get_or_none",
    "in_bulk",
    "raw",
    "select_for_update",
    "update_or_create",
}


def _modules() -> list[Path]:
    found = [
        path.relative_to(ROOT)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]
    assert len(found) > 50, "the packages were not found"
    return found


def _openers(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in OPENERS:
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute) and node.attr in OPENERS:
            yield node.lineno, node.attr
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tortoise"):
            for alias in node.names:
                if alias.name in OPENERS or alias.name == "transactions":
                    yield node.lineno, f"from {node.module} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tortoise.transactions"):
                    yield node.lineno, f"import {alias.name}"


def _chain(node: ast.expr) -> tuple[str | None, list[str], bool]:
    """The name a chain of calls and attributes starts from, the attributes along it (from the
    root outwards), and whether it names a connection (`using_db`) anywhere."""
    attrs: list[str] = []
    using = False
    while True:
        if isinstance(node, ast.Call):
            using = using or any(k.arg == "using_db" for k in node.keywords)
            node = node.func
        elif isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            using = using or node.attr == "using_db"
            node = node.value
        elif isinstance(node, ast.Await):
            node = node.value
        else:
            return (node.id if isinstance(node, ast.Name) else None), attrs[::-1], using


def _ambient_queries(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Model manager calls whose whole chain never says `using_db`."""
    inner: set[int] = set()  # nodes that are part of a longer chain: judged with it
    for node in ast.walk(tree):
        if isinstance(node, ast.Call | ast.Attribute):
            child = node.func if isinstance(node, ast.Call) else node.value
            inner.add(id(child))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call | ast.Attribute) or id(node) in inner:
            continue
        root, attrs, using = _chain(node)
        if root in MODELS and attrs and attrs[0] in MANAGER and not using:
            yield node.lineno, f"{root}.{'.'.join(attrs)}"


@pytest.mark.parametrize("module", _modules(), ids=str)
def test_only_the_store_door_opens_connections_or_transactions(module: Path) -> None:
    tree = ast.parse((ROOT / module).read_text(), str(module))

    found = [] if module in DOORS else list(_openers(tree))

    assert found == [], f"{module} opens a connection or transaction itself: use uow()/reading()"


@pytest.mark.parametrize("module", _modules(), ids=str)
def test_every_orm_query_names_the_connection_it_runs_on(module: Path) -> None:
    tree = ast.parse((ROOT / module).read_text(), str(module))

    found = list(_ambient_queries(tree))

    assert found == [], f"{module}: queries on the ambient connection (add .using_db(conn))"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tortoise import connections", True),
        ("from tortoise.transactions import in_transaction", True),
        ("conn._in_transaction()", True),
        ("x = connections.get('default')", True),
        ("from tortoise.expressions import Q", False),
    ],
)
def test_the_opener_check_sees_each_way_of_opening(source: str, expected: bool) -> None:
    assert bool(list(_openers(ast.parse(source)))) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("await Shop.filter(id=1).first()", True),
        ("await Shop.get(id=1)", True),
        ("Shop.all().order_by('id')", True),
        ("await JobRun.bulk_create([JobRun(name='x')])", True),
        ("await Shop.filter(id=1).using_db(conn).first()", False),
        ("await Shop.create(using_db=conn, name='x')", False),
        ("await Shop.filter(id=1).only('id').using_db(conn).get()", False),
        ("shop.name.filter()", False),  # not a model
    ],
)
def test_the_query_check_sees_a_query_without_a_connection(source: str, expected: bool) -> None:
    assert bool(list(_ambient_queries(ast.parse(source)))) is expected
