"""TikTok's envelope: the codes the sandbox answers with, and what a TikTok route answers.

Every answer is `{code, message, request_id, data}`, `data` only on success (code 0).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# TikTok documents all of these but the last, which is the sandbox's own.
OK = 0
BAD_CREDENTIALS = 36009004  # bad app_key, timestamp, missing sign, unknown access token
BAD_SIGN = 106001
TOKEN_EXPIRED = 105002
TOKEN_NOT_FOR_SHOP = 101000
CIPHER_MISSING = 106013
BAD_PATH = 36009009
BAD_METHOD = 36009010
BAD_FORMAT = 36009022
BAD_PARAM = 25001001
NOT_FOUND = 25007006
CANNOT_APPROVE_APPLICATION = 25011012
CANNOT_APPROVE_RECEIVE = 25011013
WRONG_TYPE = 25020004
CANCELLED_ALREADY = 25020009
APPROVED_ALREADY = 25020010
QUICK_REFUND = 25011025  # a quick-refund return: its received package cannot be rejected
BAD_REFRESH_TOKEN = 36004014  # unknown or expired refresh token


@dataclass(frozen=True)
class Answer:
    """What a TikTok route answers: an envelope code, message, data, and whether state moved."""

    code: int
    message: str = "Success"
    data: dict[str, Any] | None = None
    changed: bool = False
    http_status: int = 200

    def envelope(self, now: int) -> dict[str, Any]:
        """The JSON body TikTok sends for this answer."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "request_id": request_id(now),
        }
        if self.code == OK:
            body["data"] = self.data or {}
        return body


def refuse(code: int, message: str) -> Answer:
    """A refusal: TikTok's error code and message, nothing changed."""
    return Answer(code=code, message=message)


def request_id(now: int) -> str:
    """A request id in TikTok's shape: the UTC time to the second, then 20 hex digits."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(10).upper()
