"""TikTok Shop's HMAC-SHA256 signatures: the `sign` query parameter of every API call, and the
`Authorization` header of webhooks TikTok pushes.

A request's string to sign is the path, then every query parameter except `sign` and
`access_token` as `key` + `value` in key order, then the raw body bytes exactly as sent, all
wrapped in the app secret on both sides; the signature is the lowercase hex HMAC-SHA256 of that,
keyed with the app secret. A webhook's is the HMAC of the app key followed by the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

UNSIGNED_PARAMS = frozenset({"sign", "access_token"})


def string_to_sign(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes = b""
) -> bytes:
    """The bytes TikTok signs: `secret + path + sorted key/values + body + secret`."""
    pairs = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in UNSIGNED_PARAMS)
    secret = app_secret.encode()
    return secret + path.encode() + pairs.encode() + body + secret


def sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes = b"") -> str:
    """The `sign` query parameter for a request: lowercase hex HMAC-SHA256."""
    message = string_to_sign(app_secret, path, query, body)
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def signature_ok(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes, signature: str
) -> bool:
    """Whether `signature` is the request's `sign`, compared in constant time."""
    expected = sign(app_secret, path, query, body).encode()
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """The `Authorization` header of a TikTok webhook: HMAC of app key bytes + raw body."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()
