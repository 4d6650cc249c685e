"""TikTok's request and webhook signatures, checked against TikTok's own worked examples."""

from __future__ import annotations

import hashlib
import hmac

from aftersales.tiktok.signing import sign, signature_ok, string_to_sign, webhook_signature

DOC_SECRET = "e59af819cc"
DOC_PATH = "/authorization/202309/shops"
DOC_QUERY = {"app_key": "29a39d", "timestamp": "1623812664"}
DOC_SIGN = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_tiktoks_worked_example_string_to_sign() -> None:
    assert string_to_sign(DOC_SECRET, DOC_PATH, DOC_QUERY, b"") == (
        b"e59af819cc/authorization/202309/shopsapp_key29a39dtimestamp1623812664e59af819cc"
    )


def test_tiktoks_worked_example_sign() -> None:
    assert sign(DOC_SECRET, DOC_PATH, DOC_QUERY, b"") == DOC_SIGN


def test_sign_and_access_token_are_left_out_and_keys_are_sorted() -> None:
    query = {
        "timestamp": "1623812664",
        "sign": "whatever",
        "access_token": "T",
        "app_key": "29a39d",
    }

    assert sign(DOC_SECRET, DOC_PATH, query, b"") == DOC_SIGN


def test_a_json_body_and_shop_cipher_are_signed_after_the_sorted_query() -> None:
    path = "/return_refund/202309/returns/4035319218955782461/approve"
    query = {
        "timestamp": "1623812664",
        "shop_cipher": "ROW_abc",
        "idempotency_key": "k-1",
        "app_key": "29a39d",
    }
    body = b'{"decision":"APPROVE_RETURN"}'

    signed = string_to_sign(DOC_SECRET, path, query, body)

    assert signed == (
        b"e59af819cc/return_refund/202309/returns/4035319218955782461/approve"
        b"app_key29a39didempotency_keyk-1shop_cipherROW_abctimestamp1623812664"
        b'{"decision":"APPROVE_RETURN"}e59af819cc'
    )
    expected = hmac.new(DOC_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert sign(DOC_SECRET, path, query, body) == expected
    assert sign(DOC_SECRET, path, query, body + b" ") != expected


def test_signature_ok_accepts_the_right_sign_only() -> None:
    assert signature_ok(DOC_SECRET, DOC_PATH, DOC_QUERY, b"", DOC_SIGN)
    assert signature_ok(DOC_SECRET, DOC_PATH, DOC_QUERY, b"", f" {DOC_SIGN.upper()} ")
    assert not signature_ok(DOC_SECRET, DOC_PATH, DOC_QUERY, b"{}", DOC_SIGN)
    assert not signature_ok("other", DOC_PATH, DOC_QUERY, b"", DOC_SIGN)
    assert not signature_ok(DOC_SECRET, DOC_PATH, DOC_QUERY, b"", "é" * 64)


def test_webhook_signature_matches_tiktoks_reproduced_example() -> None:
    body = (
        b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
        b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
        b'"order_status":"UNPAID","update_time":1718305585}}'
    )

    assert webhook_signature("abcdef", "123", body) == (
        "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
    )
