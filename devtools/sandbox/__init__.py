"""A local stand-in for the TikTok Shop Partner API (docs/tiktok-sandbox.md)."""

from devtools.sandbox.app import Fault, Sandbox, build_sandbox, run_sandbox

__all__ = ["Fault", "Sandbox", "build_sandbox", "run_sandbox"]
