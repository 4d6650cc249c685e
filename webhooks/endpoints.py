"""`POST /webhooks/tiktok` and `POST /webhooks/logistics` (docs/webhooks.md).

An endpoint only checks what arrived (size, signature, envelope) and hands the delivery to the
core's inbox (aftersales.inbox), which records and applies it in one transaction; it answers 200
only after that commit. 401 (bad signature) stores nothing and logs a warning naming the header
(at most one per endpoint every 10 s, counting the ones left out); 413 is over
`WEBHOOK_MAX_BYTES`; 408 a body that took longer than `READ_TIMEOUT_SECONDS` to arrive. A
database that is down gets 503, so the sender retries.

A signed body that is not a valid delivery is kept in the delivery log as rejected, with the
reason. The two endpoints answer it differently, because their senders do:
- TikTok accepts only 200 or 401 with an empty body and retries anything else four times (2
  min, 30 min, 3 h, 12 h), while a 401 is final. A retry of the same bytes cannot fix them, so
  a rejected delivery is answered 200, empty. The service missing TIKTOK_APP_KEY or
  TIKTOK_APP_SECRET answers 503, not 401: TikTok keeps retrying until the service is
  configured, instead of dropping the event until the next poll.
- The tracking feed is ours to configure: a rejected delivery gets 400 with the reason, and a
  missing LOGISTICS_WEBHOOK_SECRET 401.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from aftersales.domain.outcome import Result
from aftersales.inbox import payloads
from aftersales.inbox.receive import receive_parcel_event, receive_tiktok, reject
from aftersales.settings import Settings
from aftersales.store.deliveries import LOGISTICS, TIKTOK
from webhooks import metrics
from webhooks.http import CLOSE, BodyTooLarge, BodyTooSlow, BodyUnreadable, read_body
from webhooks.signing import logistics_signature, matches, tiktok_signature

log = logging.getLogger(__name__)

# The headers worth keeping with a delivery (the signature too: it lets anyone re-verify a body).
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "authorization",
    "x-signature",
    "x-forwarded-for",
    "x-request-id",
    "x-tt-logid",
)


def _kept_headers(request: Request) -> dict[str, str]:
    return {name: request.headers[name][:500] for name in KEPT_HEADERS if name in request.headers}


Handler = Callable[[Request], Awaitable[Response]]

# At most one warning a signature-refusing endpoint logs per this many seconds; the next one
# counts the refusals it left unsaid. A stranger's flood of bad signatures costs a line, not a
# disk, and a misconfigured sender still shows up in the log within seconds.
WARN_EVERY_SECONDS = 10.0


class _RefusalLog:
    """Rate-limited warnings about one endpoint's refused signatures. It names the header that
    failed, never its value or the secret."""

    def __init__(self, source: str, header: str, clock: Callable[[], datetime]) -> None:
        self.source = source
        self.header = header
        self.clock = clock
        self.last: datetime | None = None
        self.suppressed = 0

    def refused(self, sent: str | None) -> None:
        now = self.clock()
        if self.last is not None and (now - self.last).total_seconds() < WARN_EVERY_SECONDS:
            self.suppressed += 1
            return
        why = "is missing" if not sent else "does not match the body"
        more = (
            f" ({self.suppressed} more refused since the last warning)" if self.suppressed else ""
        )
        log.warning(
            "%s webhook refused with 401: the signature in the %s header %s; check the"
            " sender's secret%s",
            self.source,
            self.header.title(),
            why,
            more,
        )
        self.last = now
        self.suppressed = 0


@dataclass(frozen=True)
class Answers:
    """How an endpoint answers what its sender cannot fix by retrying, and a missing secret."""

    rejected: Callable[[str], Response]  # a signed body that is not a valid delivery
    unconfigured: Callable[[], Response]  # the endpoint's secret is not set


# TikTok: 200 or 401 with an empty body, anything else is retried (see the module docstring).
TIKTOK_ANSWERS = Answers(
    rejected=lambda reason: Response(status_code=200),
    unconfigured=lambda: PlainTextResponse(
        "TikTok webhooks are not configured on this service yet: retry later",
        status_code=503,
    ),
)
LOGISTICS_ANSWERS = Answers(
    rejected=lambda reason: PlainTextResponse(reason, status_code=400),
    unconfigured=lambda: Response(status_code=401),
)


def _endpoint(
    settings: Settings,
    signature: Callable[[bytes], str | None],
    header: str,
    accept: Callable[[bytes, dict[str, str]], Awaitable[Result]],
    source: str,
    clock: Callable[[], datetime],
    answers: Answers,
) -> Handler:
    refusals = _RefusalLog(source, header, clock)

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_body(
                request, settings.webhook_max_bytes, deadline=settings.read_timeout.total_seconds()
            )
        except BodyTooLarge as exc:
            return PlainTextResponse(str(exc), status_code=413)
        except BodyTooSlow as exc:
            return PlainTextResponse(str(exc), status_code=408, headers=CLOSE)
        except BodyUnreadable as exc:
            return PlainTextResponse(str(exc), status_code=400)
        expected = signature(body)
        if expected is None:  # the endpoint's secret is not set: `signature` logged it
            return answers.unconfigured()
        sent = request.headers.get(header)
        if not matches(expected, sent):
            refusals.refused(sent)
            return Response(status_code=401)
        headers = _kept_headers(request)
        try:
            try:
                result = await accept(body, headers)
            except payloads.Malformed as exc:
                rejected = await reject(source, body, headers, exc.reason, now=clock())
                metrics.delivered(source, rejected.outcome)
                log.warning("%s webhook delivery rejected: %s", source, exc.reason)
                return answers.rejected(exc.reason)
        except Exception:  # the database is unreachable: nothing was recorded, so ask for a retry
            log.exception("could not record a %s webhook delivery", source)
            return PlainTextResponse("temporarily unavailable, retry later", status_code=503)
        metrics.delivered(source, result.outcome)  # committed: what the delivery log now says
        return Response(status_code=200)

    return endpoint


async def _logistics_feed_off(request: Request) -> Response:
    """Production without LOGISTICS_WEBHOOK_SECRET has no tracking feed (a TikTok-only seller):
    the endpoint is off, and says so to whoever calls it, instead of a bare 401 that reads like
    a wrong signature."""
    return JSONResponse(
        {
            "error": "the logistics feed is off: LOGISTICS_WEBHOOK_SECRET is not set on this"
            " service (see docs/webhooks.md)"
        },
        status_code=404,
    )


def routes(settings: Settings, clock: Callable[[], datetime]) -> list[BaseRoute]:
    def tiktok_expected(body: bytes) -> str | None:
        if not settings.tiktok_app_key or not settings.tiktok_app_secret:
            log.warning(
                "TIKTOK_APP_KEY/TIKTOK_APP_SECRET not set: TikTok webhooks answered 503 (TikTok"
                " retries them)"
            )
            return None
        return tiktok_signature(settings.tiktok_app_key, settings.tiktok_app_secret, body)

    def logistics_expected(body: bytes) -> str | None:
        if not settings.logistics_webhook_secret:
            log.warning("LOGISTICS_WEBHOOK_SECRET not set: logistics webhooks refused")
            return None
        return logistics_signature(settings.logistics_webhook_secret, body)

    async def accept_tiktok(body: bytes, headers: dict[str, str]) -> Result:
        note = payloads.parse_tiktok(body)
        return await receive_tiktok(
            body,
            headers,
            note,
            now=clock(),
            windows=settings.dispute_windows,
            # A thin report about a syncing shop queues a fetch of the full return.
            fetch_details=settings.sync_enabled,
        )

    async def accept_parcel(body: bytes, headers: dict[str, str]) -> Result:
        event = payloads.parse_parcel_event(body)
        return await receive_parcel_event(body, headers, event, now=clock())

    return [
        Route(
            "/webhooks/tiktok",
            _endpoint(
                settings,
                tiktok_expected,
                "authorization",
                accept_tiktok,
                TIKTOK,
                clock,
                TIKTOK_ANSWERS,
            ),
            methods=["POST"],
        ),
        Route(
            "/webhooks/logistics",
            _logistics_feed_off
            if settings.is_production and not settings.logistics_webhook_secret
            else _endpoint(
                settings,
                logistics_expected,
                "x-signature",
                accept_parcel,
                LOGISTICS,
                clock,
                LOGISTICS_ANSWERS,
            ),
            methods=["POST"],
        ),
    ]
