"""The layout's rules that import-linter does not check: no import cycles between the project's
modules, counting imports made inside functions."""

from __future__ import annotations

import grimp

PACKAGES = ("aftersales", "api", "webhooks", "scheduler")


def _graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    return {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in edges.get(module, ()):
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_the_checker_finds_a_cycle_when_there_is_one() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert _cycles(edges) == [["a", "b", "c"]]


def test_imports_inside_functions_count() -> None:
    edges = _graph()

    # api.cli.serve imports the app factory inside `cmd_serve`, to start fast for other commands.
    assert "api.app" in edges["api.cli.serve"]


def test_no_module_of_the_project_imports_itself_back() -> None:
    assert _cycles(_graph()) == []
