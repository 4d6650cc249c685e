"""docs/architecture.md names modules; each must exist, so the page cannot drift from the code
unnoticed. The Modules tree is read by its indentation (a folder's entries sit two spaces deeper
than the folder); paths in backticks elsewhere on the page are looked up as written, or as the
tail of a path in the project (`store/records.py`, `signing.py` where the text gives the folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "architecture.md"
SOURCES = ("aftersales", "api", "webhooks", "scheduler", "tests", "bench", "examples")

# A name in the tree: a module, a folder (trailing slash) or a file; the description follows
# after two or more spaces.
TREE_NAME = re.compile(r"^[\w.]+/?$")
# A module or folder path in backticks in the prose: `store/records.py`, `api/errors.py`, `sales/`.
INLINE_PATH = re.compile(r"`((?:[\w]+/)*[\w]+\.py|(?:[\w]+/)+)`")
# A path in a mermaid node's label: "aftersales/settings.py — ..." or "api/ — ...".
MERMAID_PATH = re.compile(r'\["((?:[\w]+/)+(?:[\w]+\.py)?) ')


def modules_tree(text: str) -> str:
    section = text.split("\n## Modules\n", 1)[1]
    found = re.search(r"```\n(.*?)```", section, re.S)
    assert found is not None, "docs/architecture.md lost its Modules tree"
    return found.group(1)


def tree_paths(tree: str) -> list[str]:
    """Every path the tree names, each joined to the folders it sits in."""
    paths: list[str] = []
    folders: list[tuple[int, str]] = []  # (indent, path) of the folders enclosing the line
    last_indent = 0  # of the last line that named something
    for line in tree.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent > last_indent + 4:
            continue  # a description carried over from the line above, in its column
        last_indent = indent
        while folders and folders[-1][0] >= indent:
            folders.pop()
        parent = folders[-1][1] if folders else ""
        names_part = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        names = [n for n in re.split(r"[,\s]+", names_part) if n]
        assert all(TREE_NAME.match(n) for n in names), f"cannot read the tree line {line!r}"
        paths += [parent + name for name in names]
        if len(names) == 1 and names[0].endswith("/"):
            folders.append((indent, parent + names[0]))
    return paths


def project_files() -> list[str]:
    found: list[str] = []
    for root in SOURCES:
        for path in (REPO / root).rglob("*"):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(REPO).as_posix()
            found.append(relative + "/" if path.is_dir() else relative)
    return found


def test_the_tree_reader_joins_folders_and_splits_lists() -> None:
    tree = "a/\n  b.py             one\n  c/\n    d.py, e.py       two\n  f/ g/    three\nh/\n"

    paths = tree_paths(tree)

    assert paths == ["a/", "a/b.py", "a/c/", "a/c/d.py", "a/c/e.py", "a/f/", "a/g/", "h/"]


def test_every_module_in_the_architecture_tree_exists() -> None:
    paths = tree_paths(modules_tree(PAGE.read_text(encoding="utf-8")))

    missing = [p for p in paths if not (REPO / p).exists()]

    assert len(paths) > 50
    assert missing == []


def test_every_module_the_architecture_page_mentions_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    mentioned = set(INLINE_PATH.findall(text)) | set(MERMAID_PATH.findall(text))
    files = project_files()

    missing = sorted(
        path
        for path in mentioned
        if not (REPO / path).exists() and not any(f.endswith("/" + path) for f in files)
    )

    assert len(mentioned) > 20
    assert missing == []


@pytest.mark.parametrize("path", ["aftersales/nowhere.py", "nowhere/"])
def test_a_path_that_is_not_there_is_missing(path: str) -> None:
    assert not any(f == path or f.endswith("/" + path) for f in project_files())
