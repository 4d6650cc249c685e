"""Asking TikTok about a shop's authorization: the shop cipher looked up for a new token, and
`aftersales shops check`, which says what works and what is missing (docs/tiktok-sync.md).

Both use Get Authorized Shops (signed, without a shop_cipher): the shops an access token may act
for, each with its cipher. `shops check` then makes one Search Returns call (page_size 10) with
the stored cipher, which proves the cipher and the app's return scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales.domain.connection import connection
from aftersales.store.credentials import CredentialsError, ShopCredentials, Vault
from aftersales.store.uow import reading
from aftersales.tiktok.client import AuthorizedShop, Credentials, TikTokClient, TikTokError

PASS, FAIL = "✓", "✗"

# What a refusal of Get Authorized Shops most likely means, by TikTok's code.
_HINTS = {
    36009004: "the app key, the access token or this machine's clock (within 30 s) is wrong",
    106001: "the app secret does not match the app key",
    105002: "the access token expired: the token job refreshes it, or set a new one",
    105005: "the app lacks a scope it needs: add it in Partner Center, then reauthorize",
    101000: "the access token is not for this shop",
    106013: "the shop cipher is missing",
}


class CipherLookupFailed(Exception):
    """The shop cipher could not be looked up: the message says why, never a token."""


def _refusal(what: str, exc: TikTokError) -> str:
    hint = _HINTS.get(exc.code or 0)
    return f"{what}: {exc.describe()}" + (f" ({hint})" if hint else "")


async def lookup_cipher(client: TikTokClient, access_token: str, shop_id: str) -> AuthorizedShop:
    """The shop as Get Authorized Shops lists it for this token (its cipher, name, region);
    `CipherLookupFailed` when TikTok cannot be reached, refuses, or does not list the shop."""
    try:
        shops = await client.authorized_shops(access_token)
    except TikTokError as exc:
        raise CipherLookupFailed(
            _refusal("cannot look the shop cipher up: Get Authorized Shops failed", exc)
        ) from None
    for shop in shops:
        if shop.shop_id == shop_id:
            return shop
    listed = ", ".join(s.shop_id for s in shops) or "none"
    raise CipherLookupFailed(
        f"shop {shop_id} is not among the shops this access token is authorized for"
        f" ({listed}): nothing stored"
    )


@dataclass
class CheckReport:
    """What `shops check` found, line by line; `ok` only when every call passed."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def passed(self, text: str) -> None:
        self.lines.append(f"{PASS} {text}")

    def failed(self, text: str) -> None:
        self.lines.append(f"{FAIL} {text}")
        self.ok = False


async def check_shop(
    client: TikTokClient | None,
    vault: Vault | None,
    shop_id: str,
    *,
    sync_configured: bool,
    now: datetime,
) -> CheckReport:
    """Get Authorized Shops (app key, token, clock, the shop authorized, its cipher as stored),
    then one Search Returns (cipher, scope). `client` None: the sync is not configured."""
    report = CheckReport()
    async with reading() as r:
        facts = await r.authorizations.facts_of(shop_id)
    if facts is None:
        report.failed(f"no shop {shop_id}: register it with `aftersales shops add`")
        return report
    state = connection(facts, sync_configured=sync_configured, now=now)
    until = state.authorization_expires_at
    ends = f", authorization ends {until:%Y-%m-%d %H:%M} UTC" if until else ""
    report.lines.append(f"shop {shop_id}: {state.state.value} ({state.why}{ends})")
    if client is None or vault is None:
        report.failed(
            "sync not configured: set TIKTOK_API_BASE_URL, TIKTOK_APP_KEY, TIKTOK_APP_SECRET"
            " (and AFTERSALES_SECRET_KEY) to reach TikTok"
        )
        return report
    try:
        async with reading() as r:
            creds = await r.credentials.stored_for(vault, shop_id)
    except CredentialsError as exc:
        report.failed(str(exc))
        return report
    if creds is None:
        report.failed(
            "no access token: connect the shop (`aftersales shops connect`) or set one with"
            " `aftersales shops credentials`"
        )
        return report
    cipher = await _check_authorized(client, creds, report)
    await _check_search(client, creds, cipher, report)
    return report


async def _check_authorized(
    client: TikTokClient, creds: ShopCredentials, report: CheckReport
) -> str | None:
    """The cipher to search with (the stored one), after checking it against TikTok's."""
    try:
        shops = await client.authorized_shops(creds.access_token)
    except TikTokError as exc:
        report.failed(_refusal("Get Authorized Shops", exc))
        return creds.shop_cipher
    report.passed(
        f"Get Authorized Shops: app key, access token and clock accepted ({len(shops)} shops)"
    )
    listed = next((s for s in shops if s.shop_id == creds.shop_id), None)
    if listed is None:
        report.failed(
            f"shop {creds.shop_id} is not among the shops this token is authorized for"
            f" ({', '.join(s.shop_id for s in shops) or 'none'})"
        )
        return creds.shop_cipher
    report.passed(f"shop {creds.shop_id} is authorized for this app ({listed.name or 'no name'})")
    if creds.shop_cipher is None:
        report.failed(
            "no shop cipher stored: set the credentials again with"
            " `aftersales shops credentials --access-token T`, which looks it up"
        )
    elif creds.shop_cipher != listed.cipher:
        report.failed(
            "the stored shop cipher is not TikTok's for this shop: set it with"
            " `aftersales shops credentials --shop-cipher C`, or give the token again to look"
            " it up"
        )
    else:
        report.passed("shop cipher matches TikTok's")
    return creds.shop_cipher


async def _check_search(
    client: TikTokClient, creds: ShopCredentials, cipher: str | None, report: CheckReport
) -> None:
    if cipher is None:
        report.failed("Search Returns: not tried without a shop cipher")
        return
    try:
        page = await client.search_returns(Credentials(creds.access_token, cipher), page_size=10)
    except TikTokError as exc:
        report.failed(_refusal("Search Returns", exc))
        return
    total = page.total_count if page.total_count is not None else len(page.returns)
    report.passed(f"Search Returns: shop cipher and return scope accepted ({total} returns)")
