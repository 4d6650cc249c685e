"""Everything the sandbox holds, in memory, and the controls tests call directly: shops, returns,
queued faults, idempotent answers, and the record of calls and webhook pushes."""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from devtools.sandbox import cancellations
from devtools.sandbox.envelope import Answer
from devtools.sandbox.records import (
    ACCESS_TOKEN_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    AuthCode,
    Call,
    Fault,
    Shop,
    WebhookPush,
)
from devtools.sandbox.returns import with_defaults
from devtools.sandbox.statuses import next_actions, pending_status
from devtools.sandbox.webhooks import (
    deauthorization_body,
    deliver,
    expiring_body,
    webhook_body,
)

logger = logging.getLogger("devtools.sandbox")


class State:
    """In-memory TikTok: shops, returns, faults and a record of calls (`Sandbox` adds the app)."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        now: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        log: Callable[[str], None] | None = None,
        redirect_url: str | None = None,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.now = now
        self.webhook_url = webhook_url
        self.redirect_url = redirect_url  # where the authorize page sends the seller back
        self.log: Callable[[str], None] = log or logger.info
        self.shops: dict[str, Shop] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.return_shop: dict[str, str] = {}
        self.cancellations: dict[str, dict[str, Any]] = {}
        self.cancel_shop: dict[str, str] = {}
        self.shipped: set[str] = set()  # cancel_ids whose order has shipped (approve: 25001045)
        self.calls: list[Call] = []
        self.webhooks: list[WebhookPush] = []
        self.idempotent: dict[tuple[str, str], Answer] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self._faults: list[tuple[str, list[Fault]]] = []
        self._pushes: set[asyncio.Task[None]] = set()

    # --- controls ------------------------------------------------------------------------

    def add_shop(
        self,
        shop_id: str,
        *,
        cipher: str,
        access_token: str,
        refresh_token: str,
        access_expires_at: int | None = None,
        name: str = "Sandbox shop",
        region: str = "ID",
    ) -> Shop:
        """Authorize a shop with these tokens (the access token lasts 7 days unless told)."""
        now = self.seconds()
        shop = Shop(
            shop_id=shop_id,
            cipher=cipher,
            access_token=access_token,
            refresh_token=refresh_token,
            access_expires_at=now + ACCESS_TOKEN_LIFETIME
            if access_expires_at is None
            else access_expires_at,
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
            name=name,
            region=region,
        )
        self.shops[shop_id] = shop
        return shop

    def shops_sharing(self, access_token: str) -> list[Shop]:
        """The shops an access token is for (one authorization may cover several)."""
        return [s for s in self.shops.values() if access_token and s.access_token == access_token]

    def put_return(self, shop_id: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Store (or replace) a Search Returns object for a shop; missing fields get defaults."""
        if shop_id not in self.shops:
            raise KeyError(f"unknown shop {shop_id}")
        complete = with_defaults(obj, self.seconds())
        return_id = complete["return_id"]
        self.returns[return_id] = complete
        self.return_shop[return_id] = shop_id
        return copy.deepcopy(complete)

    def get_return(self, return_id: str) -> dict[str, Any]:
        """A copy of a return as Search Returns would show it."""
        return copy.deepcopy(self.returns[return_id])

    def set_status(self, return_id: str, status: str, *, role: str = "BUYER") -> dict[str, Any]:
        """Move a return as a buyer or TikTok would (bumps update_time, pushes a webhook)."""
        obj = self.returns[return_id]
        self.move(obj, status, role)
        return copy.deepcopy(obj)

    def edit_return(
        self, return_id: str, changes: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The buyer edits a request: TikTok opens a new return in its place, pending again,
        naming the old one (`pre_return_id`), and the old one names it (`next_return_id`). Both
        are pushed as webhooks; the new return (`changes` over the old one's order, type, lines
        and amounts) is returned."""
        old = self.returns[return_id]
        kept = ("order_id", "return_type", "refund_amount", "return_line_items", "return_reason")
        fresh = {name: copy.deepcopy(old[name]) for name in kept if name in old}
        fresh["return_reason_text"] = old.get("return_reason_text")
        fresh["return_status"] = pending_status(str(old.get("return_type")))
        fresh.update(changes or {})
        fresh.pop("return_id", None)
        fresh["create_time"] = self.seconds()
        fresh["pre_return_id"] = return_id
        new = self.put_return(self.return_shop[return_id], fresh)
        stored = self.returns[new["return_id"]]
        stored["seller_next_action_response"] = next_actions(stored)
        old["next_return_id"] = new["return_id"]
        old["update_time"] = max(self.seconds(), int(old.get("update_time") or 0))
        self._push_webhook(stored, "BUYER")
        self._push_webhook(old, "BUYER")
        return copy.deepcopy(stored)

    def put_cancellation(
        self, shop_id: str, obj: Mapping[str, Any], *, webhook: bool = True
    ) -> dict[str, Any]:
        """A cancellation started (by its `role`: BUYER by default, SELLER or SYSTEM), missing
        fields defaulted, pushed as a type-11 webhook unless `webhook` is False (a lost one)."""
        if shop_id not in self.shops:
            raise KeyError(f"unknown shop {shop_id}")
        complete = cancellations.with_defaults(obj, self.seconds())
        cancel_id = complete["cancel_id"]
        self.cancellations[cancel_id] = complete
        self.cancel_shop[cancel_id] = shop_id
        if webhook:
            self._push(cancellations.webhook_body(shop_id, complete, self.seconds()))
        return copy.deepcopy(complete)

    def get_cancellation(self, cancel_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.cancellations[cancel_id])

    def move_cancellation(
        self, cancel_id: str, status: str, *, webhook: bool = True
    ) -> dict[str, Any]:
        """The buyer withdraws it (CANCELLED), TikTok approves it on its own (SUCCESS) or
        refunds it (COMPLETE): update_time now, a type-11 pushed unless `webhook` is False."""
        obj = self.cancellations[cancel_id]
        obj["cancel_status"] = status
        obj["update_time"] = max(self.seconds(), int(obj.get("create_time") or 0))
        obj["seller_next_action_response"] = cancellations.next_actions(obj)
        if webhook:
            shop_id = self.cancel_shop[cancel_id]
            self._push(cancellations.webhook_body(shop_id, obj, self.seconds()))
        return copy.deepcopy(obj)

    def mark_shipped(self, cancel_id: str) -> None:
        """The seller shipped the order: Approve Cancellation answers 25001045 from now on."""
        if cancel_id not in self.cancellations:
            raise KeyError(f"unknown cancellation {cancel_id}")
        self.shipped.add(cancel_id)

    def expire_token(self, shop_id: str) -> None:
        """Make the shop's current access token expired (105002 from now on)."""
        self.shops[shop_id].access_expires_at = self.seconds() - 1

    def deauthorize(self, shop_id: str, *, webhook: bool = True) -> None:
        """The seller revokes the app: the shop's tokens stop working, as TikTok's do (its
        calls answer 36009004, its refresh 36004014), and a type-6 webhook is pushed unless
        `webhook` is False (a lost one). Authorize it again with `add_shop`."""
        shop = self.shops[shop_id]
        shop.access_token = "REVOKED_" + secrets.token_urlsafe(24)
        shop.refresh_token = "REVOKED_" + secrets.token_urlsafe(24)
        if webhook:
            self._push(deauthorization_body(shop_id, self.seconds()))

    def announce_expiry(self, shop_id: str, expires_at: int | None = None) -> int:
        """Push a type-7 webhook: the shop's authorization ends at `expires_at` (Unix seconds;
        default the refresh token's end). The end announced."""
        shop = self.shops[shop_id]
        ends = shop.refresh_expires_at if expires_at is None else expires_at
        self._push(expiring_body(shop_id, self.seconds(), ends))
        return ends

    def fail(self, path_contains: str, *faults: Fault) -> None:
        """Queue faults for requests whose path contains `path_contains`, one per request."""
        self._faults.append((path_contains, list(faults)))

    async def wait_for_webhooks(self) -> None:
        """Wait until every webhook push started so far has finished (delivered or not)."""
        while self._pushes:
            await asyncio.gather(*list(self._pushes), return_exceptions=True)

    # --- what the routes use -------------------------------------------------------------

    def seconds(self) -> int:
        """Now, in whole Unix seconds, by the sandbox's clock."""
        return int(self.now())

    def next_fault(self, path: str) -> Fault | None:
        """The first fault queued for this path, consumed."""
        for index, (needle, queued) in enumerate(self._faults):
            if needle in path and queued:
                fault = queued.pop(0)
                if not queued:
                    del self._faults[index]
                return fault
        return None

    def move(self, obj: dict[str, Any], status: str, role: str) -> None:
        """Give a return a new status, as of now, and push the change as a webhook."""
        obj["return_status"] = status
        obj["update_time"] = max(self.seconds(), int(obj.get("create_time") or 0))
        obj["seller_next_action_response"] = next_actions(obj)
        self._push_webhook(obj, role)

    def _push_webhook(self, obj: Mapping[str, Any], role: str) -> None:
        shop_id = self.return_shop[str(obj["return_id"])]
        self._push(webhook_body(shop_id, obj, role, self.seconds()))

    def _push(self, body: bytes) -> None:
        if not self.webhook_url:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called from synchronous test code: deliver before returning
            asyncio.run(self._deliver(self.webhook_url, body))
            return
        task = loop.create_task(self._deliver(self.webhook_url, body))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _deliver(self, url: str, body: bytes) -> None:
        push = await deliver(url, self.app_key, self.app_secret, body)
        self.webhooks.append(push)
        if push.error is not None:
            self.log(f"webhook not delivered: {push.error}")
        elif push.status != 200:
            self.log(f"webhook answered HTTP {push.status}")
