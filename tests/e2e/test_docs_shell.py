"""Every ```sh block of README.md and docs/*.md runs as written against a real
`aftersales serve` (and the stand-in TikTok API where a block talks to it), as a reader would
paste them: a page's blocks in order, in one bash session (`set -euo pipefail`), in a fresh
folder where `.venv` and `examples` are at hand, with the `NAME.graphql` files the page says to
save. Blocks name the service once, `URL=${URL:-http://127.0.0.1:8000}` (the sandbox:
`SANDBOX=${SANDBOX:-http://127.0.0.1:8600}`), so the test serves on free ports.

A block that cannot run here (`make run` itself, a production setup, a real shop's credentials)
says so just before it: `<!-- not-run: why -->`. The service runs with the demo secrets the
webhook page signs with. README's first-steps block is also run by test_first_steps.py, which
adds `make run` and a restart."""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.live import sandbox_process, start_server, stop_server

pytestmark = pytest.mark.live  # a real `aftersales serve`, and bash

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not-run: (.*?) -->\s*$")
SAVED_AS = re.compile(r"`([\w-]+\.graphql)`:\s*$")
# A service or sandbox address written out; allowed only as the default of URL or SANDBOX.
HARD_CODED = re.compile(r"(?:127\.0\.0\.1|localhost):\d+")
BASE_DEFAULT = re.compile(r"\$\{(?:URL|SANDBOX):-http://127\.0\.0\.1:\d+\}")
DEMO_SECRETS = {
    "TIKTOK_APP_KEY": "demo-app-key",
    "TIKTOK_APP_SECRET": "demo-app-secret",
    "LOGISTICS_WEBHOOK_SECRET": "demo-logistics-secret",
}


@dataclass
class Page:
    path: Path
    runs: list[tuple[int, str]] = field(default_factory=list)  # (line, block)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    files: dict[str, str] = field(default_factory=dict)  # NAME.graphql -> text

    @property
    def name(self) -> str:
        return self.path.relative_to(REPO).as_posix()

    @property
    def needs_sandbox(self) -> bool:
        return any("$SANDBOX" in block for _, block in self.runs)


def read(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    page = Page(path)
    for fence in FENCE.finditer(text):
        indent, language, body = fence.groups()
        body = re.sub(rf"^{indent}", "", body, flags=re.M)
        before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        line = text.count("\n", 0, fence.start()) + 1
        if language == "graphql" and (saved := SAVED_AS.search(text[: fence.start()].rstrip())):
            page.files[saved.group(1)] = body
        if language != "sh":
            continue
        if skip := NOT_RUN.search(before):
            page.skipped.append((line, skip.group(1)))
        else:
            page.runs.append((line, body))
    return page


def pages_with_blocks() -> list[Page]:
    return [page for page in map(read, PAGES) if page.runs or page.skipped]


def test_every_block_that_does_not_run_says_why() -> None:
    skipped = [(p.name, line, why) for p in pages_with_blocks() for line, why in p.skipped]

    assert skipped, "no block is marked not-run: is the marker still read?"
    assert [s for s in skipped if len(s[2].strip()) < 10] == []


def test_blocks_name_the_service_once_by_a_variable() -> None:
    written = [
        (page.name, line, address)
        for page in pages_with_blocks()
        for line, block in page.runs
        for address in HARD_CODED.findall(BASE_DEFAULT.sub("", block))
    ]

    assert written == []


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for tool in ("bash", "curl", "jq", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    work = tmp_path / "reader"
    work.mkdir()
    (work / ".venv").symlink_to(REPO / ".venv")
    (work / "examples").symlink_to(REPO / "examples")
    return work


@pytest.mark.parametrize("page", [p for p in pages_with_blocks() if p.runs], ids=lambda p: p.name)
def test_the_shell_blocks_of_each_page_run_as_written(
    page: Page, folder: Path, tmp_path: Path
) -> None:
    for name, text in page.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    script = "\n".join(f"# {page.name}:{line}\n{block}" for line, block in page.runs)

    with ExitStack() as stack:
        service_env = dict(DEMO_SECRETS)
        reader_env: dict[str, str] = {}
        if page.needs_sandbox:
            sandbox = stack.enter_context(sandbox_process(tmp_path, DEMO_SECRETS))
            service_env |= {
                "TIKTOK_API_BASE_URL": sandbox,
                "TIKTOK_AUTH_BASE_URL": sandbox,
                # connecting a shop by OAuth, through the sandbox's authorization page
                "TIKTOK_AUTHORIZE_URL": f"{sandbox}/open/authorize",
                "TIKTOK_SERVICE_ID": "demo-service-id",
            }
            reader_env["SANDBOX"] = sandbox
        proc, server = start_server(tmp_path, service_env)
        stack.callback(stop_server, proc)
        env = {**server.env, **reader_env, "URL": server.url}
        env["TIKTOK_REDIRECT_BASE_URL"] = server.url
        env.pop("AFTERSALES_ENV", None)
        ran = subprocess.run(
            ["bash", "-euxo", "pipefail", "-c", script],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert ran.returncode == 0, (
        f"a shell block of {page.name} failed (bash -x trace, last lines):\n"
        f"{ran.stderr[-6000:]}\n--- stdout ---\n{ran.stdout[-3000:]}"
    )
