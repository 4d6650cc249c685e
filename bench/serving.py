"""How the bare baselines are served: one uvicorn process, as `aftersales serve` runs."""

from __future__ import annotations

import importlib.util
from typing import Any

import uvicorn


def serve(app: Any, port: int) -> None:
    fast = {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
    }
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning", **fast)
