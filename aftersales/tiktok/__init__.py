"""Talking back to TikTok Shop: the signed async Partner API client (`client`) and its request
and webhook signatures (`signing`), the sync tasks built on them that push seller decisions and
fetch and poll returns, and a local stand-in for TikTok (`sandbox`, docs/tiktok-sandbox.md) that
tests and developers run instead of the real thing. The client and signing import nothing
else from the project but the domain's text rule (`readable`); the sync tasks also use the store.
"""
