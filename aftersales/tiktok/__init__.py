"""Talking back to TikTok Shop: the signed async Partner API client (`client`) and its request
and webhook signatures (`signing`), and the sync tasks built on them that push seller decisions
and fetch and poll returns. The client and signing import nothing else from the project; the
sync tasks also use the store. The local stand-in for TikTok that tests and developers run
instead of the real thing is a developer tool: `devtools.sandbox` (docs/tiktok-sandbox.md).
"""
