"""The TikTok Shop Partner API calls the service makes, signed and retried (SPEC §10).

One `TikTokClient` per process talks to one API host and one auth host. Every shop call carries
`app_key`, `timestamp`, `shop_cipher` and `sign` in its query and the access token in the
`x-tts-access-token` header; the JSON body is serialised once and the very bytes that were signed
are the bytes sent. TikTok answers `{code, message, request_id, data}`: code 0 gives back `data`,
anything else raises `TikTokError` with TikTok's code and message.

Transient failures (HTTP 429 and 5xx, the codes of `RETRYABLE_CODES`, timeouts, lost
connections) are retried here, up to `max_retries` more times, sleeping `min(cap, base * 2**n)`
with jitter, or what a 429's `Retry-After` asks for (capped the same way); the caller may be
told of each (`on_retry`). A 36009004 that names the timestamp is retried once at once, signed
with our clock corrected by the answer's `Date` header (the offset is kept for later calls). A
429 or 5xx whose body is not TikTok's envelope reads "HTTP 429 (rate limited)". An expired access
token (105002) is not retried here: the error comes back with `token_expired` set, and the caller
refreshes the token (`refresh_token`) and then calls again with the new one. `get_token` (an
OAuth authorization code for a token pair) is never retried: a code works once.

Every call has an overall deadline (`deadline`, 30 s by default) that covers its attempts and
the waits between them, and an answer is read as a stream and dropped past `max_body` bytes (8
MiB): a slow or endless answer fails this call with a retryable `TikTokError`, never stalls the
caller's other calls. An answer that is not plain JSON (nested deeper than `MAX_DEPTH`, say) is
"malformed", and TikTok's message is kept printable (no NUL, no lone surrogate, at most
1,000 characters: `aftersales.domain.sync.readable`) before it goes anywhere.

Secrets stay out of errors and logs: messages are built here, never copied from httpx (whose
errors can embed the URL, and the refresh and token-get URLs carry the app secret), any secret
that could still appear in one is masked, and a filter on the `httpx` logger masks the secret
query parameters (the authorization code among them) in the request lines httpx logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx

from aftersales.domain.sync import readable
from aftersales.tiktok.signing import sign

log = logging.getLogger("aftersales.tiktok")

SEARCH_RETURNS_PATH = "/return_refund/202309/returns/search"
DECIDE_PATH = "/return_refund/202309/returns/{return_id}/{verb}"
SEARCH_CANCELLATIONS_PATH = "/return_refund/202309/cancellations/search"
CANCEL_DECIDE_PATH = "/return_refund/202309/cancellations/{return_id}/{verb}"
REJECT_REASONS_PATH = "/return_refund/202309/reject_reasons"
REFRESH_TOKEN_PATH = "/api/v2/token/refresh"
GET_TOKEN_PATH = "/api/v2/token/get"
AUTHORIZED_SHOPS_PATH = "/authorization/202309/shops"

TOKEN_EXPIRED = 105002
# Rate limits (36009002, 36009003, 36009007) and TikTok's "internal error, try again" family of
# the return_refund calls: 25020008 internal error, 25001028 reverse lock failed, 25007002 db
# access error, 25001058 reverse downstream data load error.
RETRYABLE_CODES = frozenset({36009002, 36009003, 36009007, 25020008, 25001028, 25007002, 25001058})
# App key, timestamp or access token refused: which one, only the message says.
BAD_CREDENTIALS = 36009004
# What an HTTP status says when its body is not TikTok's envelope (a gateway's page).
_STATUS_REASONS = {429: "rate limited", 502: "bad gateway", 503: "unavailable", 504: "timeout"}
MAX_IDEMPOTENCY_KEY = 255
MAX_DEPTH = 64  # nesting of a JSON answer; TikTok's are a few levels deep
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # a page of 50 returns is well under 1 MiB
DEFAULT_DEADLINE = 30.0  # seconds for one call, its retries and their waits included
_RETURN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MASK = "***"

T = TypeVar("T")
# Told of each retry made inside one call, before its wait (aftersales/tiktok/dispatch.py shows
# them on the after-sale while they last): the error that is retried.
OnRetry = Callable[["TikTokError"], Awaitable[None]]

SECRET_PARAMS = ("app_secret", "refresh_token", "access_token", "auth_code")


class RedactSecretParams(logging.Filter):
    """Masks secret query parameters in the URLs httpx logs at INFO ("HTTP Request: GET …"):
    the token refresh carries the app secret and the refresh token in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        return True


def _redacted(arg: object) -> object:
    if not isinstance(arg, httpx.URL):
        return arg
    params = arg.params
    for key in SECRET_PARAMS:
        if key in params:
            params = params.set(key, _MASK)
    return arg.copy_with(params=params)


_REDACT = RedactSecretParams()
logging.getLogger("httpx").addFilter(_REDACT)


@dataclass(frozen=True)
class Credentials:
    """What a shop call needs besides the app's own key and secret."""

    access_token: str = field(repr=False)
    shop_cipher: str | None


@dataclass(frozen=True)
class TokenGrant:
    """A refreshed pair of tokens; expiries are UTC-aware (TikTok gives absolute Unix times)."""

    access_token: str = field(repr=False)
    access_token_expires_at: datetime
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: datetime


@dataclass(frozen=True)
class AuthorizedShop:
    """One shop of Get Authorized Shops: TikTok's id, its name and region, and its cipher."""

    shop_id: str
    name: str
    region: str
    cipher: str


@dataclass(frozen=True)
class SearchPage:
    """One page of Search Returns: TikTok's return objects as they came."""

    returns: list[dict[str, Any]]
    next_page_token: str | None
    total_count: int | None


class TikTokError(Exception):
    """A call that did not succeed: TikTok's answer, a bad HTTP response, or the transport.

    `code` is TikTok's envelope code when there was one. `retryable` says whether the same call
    may succeed later (it has already been retried `attempts - 1` times here). `token_expired`
    says the access token must be refreshed before calling again.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        transport: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.retryable = retryable
        self.transport = transport
        self.retry_after = retry_after
        self.attempts = 1
        self.server_time: float | None = None  # the answer's `Date` header, Unix seconds
        self.status_only = False  # an HTTP status without TikTok's envelope (a gateway's page)

    @property
    def token_expired(self) -> bool:
        return self.code == TOKEN_EXPIRED

    @property
    def clock_skewed(self) -> bool:
        """TikTok refused our timestamp (36009004 whose message names it)."""
        return self.code == BAD_CREDENTIALS and "timestamp" in self.message.lower()

    @property
    def token_invalid(self) -> bool:
        """TikTok refused the access token (36009004 whose message names it): a refresh may
        cure it once."""
        text = self.message.lower()
        return self.code == BAD_CREDENTIALS and "token" in text and "timestamp" not in text

    def describe(self) -> str:
        """One line for `syncError`: "TikTok CODE: message", "transport: …", "HTTP 429 (rate
        limited)" or "HTTP n: …"."""
        if self.code is not None:
            return f"TikTok {self.code}: {self.message}"
        if self.transport:
            return f"transport: {self.message}"
        if self.http_status is not None and self.status_only:
            return f"HTTP {self.http_status} ({self.message})"
        if self.http_status is not None:
            return f"HTTP {self.http_status}: {self.message}"
        return self.message

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class _Request:
    """One HTTP exchange to attempt (and perhaps attempt again)."""

    method: Literal["GET", "POST"]
    url: str
    path: str
    query: dict[str, str]
    content: bytes
    headers: dict[str, str]
    secrets: tuple[str, ...]


class TikTokClient:
    """An async TikTok Shop Partner API client (see the module docstring for retries)."""

    def __init__(
        self,
        *,
        base_url: str,
        auth_base_url: str,
        app_key: str,
        app_secret: str,
        timeout: float = 10.0,
        deadline: float = DEFAULT_DEADLINE,
        max_body: int = DEFAULT_MAX_BODY,
        max_retries: int = 2,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        now: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._auth_base_url = auth_base_url.rstrip("/")
        self._app_key = app_key
        self._app_secret = app_secret
        self._timeout = timeout
        self._deadline = deadline
        self._max_body = max_body
        self._max_retries = max(0, max_retries)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._now = now
        # Seconds to add to `now` for TikTok's timestamp: learnt from a `Date` header when
        # TikTok refuses our timestamp (a host clock off by more than TikTok allows).
        self._skew = 0.0
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def __aenter__(self) -> TikTokClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def search_returns(
        self,
        creds: Credentials,
        *,
        return_ids: list[str] | None = None,
        update_time_ge: int | None = None,
        update_time_lt: int | None = None,
        page_token: str | None = None,
        page_size: int = 50,
    ) -> SearchPage:
        """One page of returns, oldest update first; follow `next_page_token` for the rest."""
        params = {"sort_field": "update_time", "sort_order": "ASC", "page_size": str(page_size)}
        if page_token:
            params["page_token"] = page_token
        body: dict[str, Any] = {}
        if return_ids is not None:
            body["return_ids"] = list(return_ids)
        if update_time_ge is not None:
            body["update_time_ge"] = update_time_ge
        if update_time_lt is not None:
            body["update_time_lt"] = update_time_lt
        data = await self._shop_call("POST", SEARCH_RETURNS_PATH, creds, params=params, body=body)
        return _search_page(data)

    async def search_cancellations(
        self,
        creds: Credentials,
        *,
        cancel_ids: list[str] | None = None,
        update_time_ge: int | None = None,
        update_time_lt: int | None = None,
        page_token: str | None = None,
        page_size: int = 50,
    ) -> SearchPage:
        """One page of cancellations, oldest update first (`returns` holds them); follow
        `next_page_token` for the rest."""
        params = {"sort_field": "update_time", "sort_order": "ASC", "page_size": str(page_size)}
        if page_token:
            params["page_token"] = page_token
        body: dict[str, Any] = {}
        if cancel_ids is not None:
            body["cancel_ids"] = list(cancel_ids)
        if update_time_ge is not None:
            body["update_time_ge"] = update_time_ge
        if update_time_lt is not None:
            body["update_time_lt"] = update_time_lt
        data = await self._shop_call(
            "POST", SEARCH_CANCELLATIONS_PATH, creds, params=params, body=body
        )
        return _search_page(data, "cancellations")

    async def decide(
        self,
        creds: Credentials,
        return_id: str,
        verb: Literal["approve", "reject"],
        body: dict[str, Any],
        idempotency_key: str,
        *,
        on_retry: OnRetry | None = None,
        cancellation: bool = False,
    ) -> dict[str, Any]:
        """Approve or reject a return (with `cancellation`, a cancellation: `return_id` is its
        cancel_id); TikTok applies a repeated `idempotency_key` once. `on_retry` is told of
        each retry made inside this call."""
        if verb not in ("approve", "reject"):
            raise ValueError(f"verb must be approve or reject, not {verb!r}")
        if not _RETURN_ID.fullmatch(return_id):
            # TikTok's ids are digits: one we cannot put in a path is refused for good, as a
            # failed call (its caller records it), not as a bug.
            raise TikTokError("the return id cannot be sent: 1 to 64 letters, digits, '-' or '_'")
        if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise ValueError(f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        path = (CANCEL_DECIDE_PATH if cancellation else DECIDE_PATH).format(
            return_id=return_id, verb=verb
        )
        params = {"idempotency_key": idempotency_key}
        return await self._shop_call(
            "POST", path, creds, params=params, body=body, on_retry=on_retry
        )

    async def reject_reasons(
        self, creds: Credentials, return_id: str, *, locale: str | None = None
    ) -> list[tuple[str, str]]:
        """The reasons a seller may give to reject this return at its current stage, as
        `(name, text)`, the texts in `locale` (a BCP-47 tag; TikTok's default when None)."""
        params = {"return_or_cancel_id": return_id}
        if locale:
            params["locale"] = locale
        data = await self._shop_call("GET", REJECT_REASONS_PATH, creds, params=params)
        return _reasons(data)

    async def refresh_token(self, refresh_token: str) -> TokenGrant:
        """New access and refresh tokens from the auth host (this call is not signed)."""
        request = self._auth_request(
            REFRESH_TOKEN_PATH, refresh_token=refresh_token, grant_type="refresh_token"
        )
        data = await self._with_retries(request.path, lambda: self._send(request))
        return _token_grant(data)

    async def get_token(self, auth_code: str) -> TokenGrant:
        """The tokens an authorization code (the OAuth callback's `code`) is worth, from the auth
        host (not signed). A code works once."""
        request = self._auth_request(
            GET_TOKEN_PATH, auth_code=auth_code, grant_type="authorized_code"
        )
        # Not retried: a code is single-use, and an answer lost on the way may have used it.
        try:
            async with asyncio.timeout(self._deadline):
                data = await self._send(request)
        except TimeoutError:
            raise TikTokError(
                f"no answer within {self._deadline:g}s on {GET_TOKEN_PATH}", transport=True
            ) from None
        return _token_grant(data)

    def _auth_request(self, path: str, **grant: str) -> _Request:
        """A call to the auth host (token get, token refresh): not signed, the app's key and
        secret in the query, then `grant` (whose secret, a code or a refresh token, is masked in
        errors like the app secret)."""
        return _Request(
            method="GET",
            url=self._auth_base_url + path,
            path=path,
            query={"app_key": self._app_key, "app_secret": self._app_secret, **grant},
            content=b"",
            headers={},
            secrets=(self._app_secret, *(v for k, v in grant.items() if k != "grant_type")),
        )

    async def authorized_shops(self, access_token: str) -> list[AuthorizedShop]:
        """The shops this access token is authorized for (Get Authorized Shops, signed, without a
        shop cipher), each with the cipher its calls need."""
        creds = Credentials(access_token, None)
        data = await self._shop_call("GET", AUTHORIZED_SHOPS_PATH, creds)
        return _authorized_shops(data)

    async def _shop_call(
        self,
        method: Literal["GET", "POST"],
        path: str,
        creds: Credentials,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        on_retry: OnRetry | None = None,
    ) -> dict[str, Any]:
        content = b"" if body is None else compact_json(body)
        headers = {"x-tts-access-token": creds.access_token, "Content-Type": "application/json"}

        def attempt() -> Awaitable[dict[str, Any]]:
            query = self._signed_query(path, params or {}, creds.shop_cipher, content)
            request = _Request(
                method=method,
                url=self._base_url + path,
                path=path,
                query=query,
                content=content,
                headers=headers,
                secrets=(self._app_secret, creds.access_token),
            )
            return self._send(request)

        return await self._with_retries(path, attempt, on_retry)

    def _signed_query(
        self, path: str, params: Mapping[str, str], shop_cipher: str | None, content: bytes
    ) -> dict[str, str]:
        """A fresh timestamp and signature for each attempt."""
        stamp = int(self._now() + self._skew)
        query = {**params, "app_key": self._app_key, "timestamp": str(stamp)}
        if shop_cipher:
            query["shop_cipher"] = shop_cipher
        query["sign"] = sign(self._app_secret, path, query, content)
        return query

    async def _with_retries(
        self, path: str, attempt: Callable[[], Awaitable[T]], on_retry: OnRetry | None = None
    ) -> T:
        try:
            async with asyncio.timeout(self._deadline):
                return await self._retried(path, attempt, on_retry)
        except TimeoutError:
            raise TikTokError(
                f"no answer within {self._deadline:g}s on {path}", transport=True, retryable=True
            ) from None

    async def _retried(
        self, path: str, attempt: Callable[[], Awaitable[T]], on_retry: OnRetry | None
    ) -> T:
        retries = 0
        made = 0
        corrected = False
        while True:
            made += 1
            try:
                return await attempt()
            except TikTokError as error:
                error.attempts = made
                if error.clock_skewed and not corrected and error.server_time is not None:
                    # Our clock is off by more than TikTok allows: take TikTok's time from its
                    # `Date` header, keep the offset for every later call, and retry once now.
                    corrected = True
                    self._correct_clock(error.server_time, path)
                    if on_retry is not None:
                        await on_retry(error)
                    continue
                if not error.retryable or retries >= self._max_retries:
                    raise
                delay = self._delay(error, retries)
                retries += 1
                log.warning(
                    "TikTok call %s failed (%s); retry %d of %d in %.2fs",
                    path,
                    error.describe(),
                    retries,
                    self._max_retries,
                    delay,
                )
                if on_retry is not None:
                    await on_retry(error)
                await asyncio.sleep(delay)

    def _correct_clock(self, server_time: float, path: str) -> None:
        skew = server_time - self._now()
        log.warning(
            "TikTok refused the timestamp of %s: this host's clock is %+.0fs off TikTok's"
            " (its Date header); signing with the corrected time from now on. Keep NTP on.",
            path,
            -skew,
        )
        self._skew = skew

    def _delay(self, error: TikTokError, retries: int) -> float:
        if error.retry_after is not None:
            return min(self._backoff_cap, max(0.0, error.retry_after))
        ceiling = min(self._backoff_cap, self._backoff_base * 2.0**retries)
        return ceiling * random.uniform(0.5, 1.0)

    async def _send(self, request: _Request) -> dict[str, Any]:
        try:
            built = self._http.build_request(
                request.method,
                request.url,
                params=request.query,
                content=request.content or None,
                headers=request.headers,
            )
            response = await self._http.send(built, stream=True)
            try:
                body = await _read_capped(response, self._max_body)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise _transport(f"timed out after {self._timeout:g}s", request) from None
        except httpx.HTTPError as exc:
            detail = _masked(str(exc), request.secrets)
            reason = f"{type(exc).__name__}" + (f" ({detail})" if detail else "")
            raise _transport(reason, request) from None
        log.debug("TikTok %s %s -> HTTP %d", request.method, request.path, response.status_code)
        try:
            if body is None:
                raise _malformed(response.status_code, f"larger than {self._max_body} bytes")
            return _envelope_data(response, body, self._now)
        except TikTokError as error:
            error.message = _masked(error.message, request.secrets)
            error.server_time = _date(response)
            raise


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` bytes (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _depth_ok(body: bytes) -> bool:
    """Whether the JSON text nests at most MAX_DEPTH deep (brackets in strings counted too: a
    bound, not a parser), checked before parsing so a deep answer never reaches the parser's
    recursion."""
    depth = 0
    for byte in body.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_DEPTH:
            return False
    return True


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def compact_json(body: Mapping[str, Any]) -> bytes:
    """The body bytes that are both signed and sent (no spaces, UTF-8)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _transport(reason: str, request: _Request) -> TikTokError:
    return TikTokError(
        f"{reason} on {request.method} {request.path}", transport=True, retryable=True
    )


def _masked(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), _quote_plus_form(secret)}:
                text = text.replace(form, _MASK)
    return text


def _quote_plus_form(value: str) -> str:
    """How a value looks in a query string encoded with `+` for spaces."""
    return quote(value, safe="").replace("%20", "+")


def _status_retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _date(response: httpx.Response) -> float | None:
    """The answer's `Date` header as Unix seconds, if it has a readable one."""
    value = response.headers.get("Date", "").strip()
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _status_error(status: int) -> TikTokError:
    """A 429 or 5xx without TikTok's envelope: named by its status ("HTTP 429 (rate limited)"),
    not as a malformed answer."""
    reason = _STATUS_REASONS.get(status, "server error" if status >= 500 else "rate limited")
    error = TikTokError(reason, http_status=status, retryable=True)
    error.status_only = True
    return error


def _malformed(status: int, what: str) -> TikTokError:
    return TikTokError(
        f"malformed response: {what}", http_status=status, retryable=_status_retryable(status)
    )


def _retry_after(response: httpx.Response, now: Callable[[], float]) -> float | None:
    """Seconds a 429 asks us to wait (`Retry-After` as seconds or an HTTP date), if it does."""
    value = response.headers.get("Retry-After", "").strip()
    if response.status_code != 429 or not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError):
        return None


def _envelope_data(
    response: httpx.Response, body: bytes, now: Callable[[], float]
) -> dict[str, Any]:
    """`data` of a successful envelope; a `TikTokError` for anything else."""
    status = response.status_code
    retry_after = _retry_after(response, now)
    try:
        if not _depth_ok(body):
            raise ValueError("nested too deep")
        payload = json.loads(body)
    except (ValueError, RecursionError):
        plain = _status_retryable(status)
        error = _status_error(status) if plain else _malformed(status, "the body is not JSON")
        error.retry_after = retry_after
        raise error from None
    code = payload.get("code") if isinstance(payload, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        if _status_retryable(status):
            gateway = _status_error(status)
            gateway.retry_after = retry_after
            raise gateway
        raise _malformed(status, "no integer `code` in the body")
    if code != 0:
        raise _business_error(payload, code, status, retry_after)
    if status >= 300:
        raise _malformed(status, "code 0 with an HTTP error status")
    data = payload.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _malformed(status, "`data` is not an object")
    return data


def _business_error(
    payload: dict[str, Any], code: int, status: int, retry_after: float | None
) -> TikTokError:
    message = payload.get("message")
    request_id = payload.get("request_id")
    return TikTokError(
        readable(str(message)) if message else "(no message)",
        code=code,
        http_status=status,
        request_id=str(request_id) if request_id else None,
        retryable=code in RETRYABLE_CODES or _status_retryable(status),
        retry_after=retry_after,
    )


def _search_page(data: dict[str, Any], key: str = "return_orders") -> SearchPage:
    returns = data.get(key) or []
    if not isinstance(returns, list):
        raise _malformed(200, f"data.{key} is not a list")
    token = data.get("next_page_token")
    total = data.get("total_count")
    return SearchPage(
        returns=[item for item in returns if isinstance(item, dict)],
        next_page_token=str(token) if token else None,
        total_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )


def _reasons(data: dict[str, Any]) -> list[tuple[str, str]]:
    reasons = data.get("reasons") or []
    if not isinstance(reasons, list):
        raise _malformed(200, "data.reasons is not a list")
    return [
        (str(reason["name"]), str(reason.get("text") or reason["name"]))
        for reason in reasons
        if isinstance(reason, dict) and reason.get("name")
    ]


def _authorized_shops(data: dict[str, Any]) -> list[AuthorizedShop]:
    shops = data.get("shops") or []
    if not isinstance(shops, list):
        raise _malformed(200, "data.shops is not a list")
    try:
        return [
            AuthorizedShop(
                shop_id=_text(shop["id"]),
                name=readable(str(shop.get("name") or "")),
                region=_text(shop["region"]).upper(),
                cipher=_text(shop["cipher"]),
            )
            for shop in shops
        ]
    except (KeyError, TypeError, ValueError):
        raise _malformed(200, "a shop of data.shops lacks its id, region or cipher") from None


def _token_grant(data: dict[str, Any]) -> TokenGrant:
    try:
        return TokenGrant(
            access_token=_text(data["access_token"]),
            access_token_expires_at=_unix(data["access_token_expire_in"]),
            refresh_token=_text(data["refresh_token"]),
            refresh_token_expires_at=_unix(data["refresh_token_expire_in"]),
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise _malformed(200, "the token answer lacks tokens or expiries") from None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a token")
    return value


def _unix(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("not a Unix time")
    return datetime.fromtimestamp(int(value), UTC)
