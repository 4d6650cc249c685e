"""The two webhook signatures. Both are lowercase hex HMAC-SHA256 over the raw body bytes."""

from __future__ import annotations

import hashlib
import hmac


def tiktok_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """TikTok's `Authorization` header: HMAC-SHA256(key=app_secret, msg=app_key + raw body)."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def logistics_signature(secret: str, body: bytes) -> str:
    """The logistics feed's `X-Signature` header: HMAC-SHA256(key=secret, msg=raw body)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def matches(expected: str, provided: str | None) -> bool:
    """Constant-time comparison; a header with odd characters simply does not match."""
    if not provided:
        return False
    # Header values arrive decoded as latin-1; compare bytes (compare_digest refuses non-ASCII str).
    return hmac.compare_digest(expected.encode(), provided.strip().lower().encode("latin-1"))
