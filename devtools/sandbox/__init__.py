"""A local stand-in for the TikTok Shop Partner API (docs/tiktok-sandbox.md), one concept per
module: TikTok's vocabulary (`statuses`, `envelope`, `decisions`), what it holds (`records`,
`returns`, `state`), how it answers (`wire`, `checks`, `routes`, `authorize`, `control`,
`webhooks`), and the ASGI app with its entry points (`app`)."""

from devtools.sandbox.app import Sandbox, build_sandbox, run_sandbox
from devtools.sandbox.records import Fault

__all__ = ["Fault", "Sandbox", "build_sandbox", "run_sandbox"]
