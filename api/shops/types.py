"""A seller's TikTok shop, as GraphQL shows it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aftersales.domain.connection import Connection, connection
from aftersales.domain.connection import ShopConnection as _ShopConnection
from aftersales.store.records import ShopRecord
from api.context import Info

ShopConnection = strawberry.enum(
    _ShopConnection,
    description=(
        "Whether the shop syncs with TikTok: LOCAL_ONLY (no sync configured, or no access token"
        " or shop cipher), CONNECTED, EXPIRING (TikTok announced the authorization ends, or the"
        " refresh token ends within 30 days), DISCONNECTED (the seller revoked the app, or"
        " TikTok refused a token refresh: decisions wait until it is reconnected)."
    ),
)


@strawberry.type
class Shop:
    shop_id: str
    region: str
    name: str
    pk: strawberry.Private[int]

    @strawberry.field(
        description=(
            "Why the shop's last poll, import or credential read failed (TikTok's code and"
            " message, at most 1,000 characters); null when it went through."
        )
    )
    async def sync_error(self, info: Info) -> str | None:
        found = await info.context.loaders.sync_errors.load(self.pk)
        return found[0] if found else None

    @strawberry.field(description="The shop's connection to TikTok (docs/tiktok-sync.md).")
    async def connection(self, info: Info) -> ShopConnection:  # type: ignore[valid-type]
        return (await self._connection(info)).state

    @strawberry.field(
        description=(
            "When the shop's TikTok authorization ends: the end TikTok announced (webhook type"
            " 7) when one arrived since it was connected, else the refresh token's end; null"
            " when unknown."
        )
    )
    async def authorization_expires_at(self, info: Info) -> datetime | None:
        return (await self._connection(info)).authorization_expires_at

    async def _connection(self, info: Info) -> Connection:
        found = await info.context.loaders.authorizations.load(self.pk)
        assert found, "every shop has connection facts"
        context = info.context
        return connection(
            found[0], sync_configured=context.settings.sync_enabled, now=context.clock()
        )

    @classmethod
    def of(cls, record: ShopRecord) -> Shop:
        return cls(shop_id=record.shop_id, region=record.region, name=record.name, pk=record.id)
