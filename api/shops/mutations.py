"""`tiktokAuthorizationUrl`: the page a seller opens to connect their TikTok shops by OAuth
(docs/connecting-a-shop.md); the same use case as `aftersales shops connect`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aftersales.commands import authorize
from aftersales.domain.errors import Invalid
from api.context import Info
from api.errors import UserError, user_error


@strawberry.input
class TikTokAuthorizationUrlInput:
    region: str | None = strawberry.field(
        default=None,
        description=(
            "The shops' region (ISO 3166-1, e.g. US, ID): US shops authorize on TikTok's US"
            " page, the others on the global one. Default: the global page."
        ),
    )


@strawberry.type
class TikTokAuthorizationUrlPayload:
    url: str | None = strawberry.field(
        description=(
            "TikTok's authorization page, with a new state that works once, for 30 minutes;"
            " TikTok then sends the seller back to /oauth/tiktok/callback."
        )
    )
    expires_at: datetime | None = strawberry.field(description="When the state stops working.")
    user_errors: list[UserError]


@strawberry.type
class ShopMutation:
    @strawberry.mutation(
        description=(
            "Start connecting your TikTok shops by OAuth: the URL of TikTok's authorization page."
            " VALIDATION for an unknown region, or when TIKTOK_SERVICE_ID is not set here."
        )
    )
    async def tiktok_authorization_url(
        self, info: Info, input: TikTokAuthorizationUrlInput
    ) -> TikTokAuthorizationUrlPayload:
        ctx = info.context
        app = authorize.App(ctx.settings.tiktok_service_id, ctx.settings.tiktok_authorize_url)
        try:
            found = await authorize.authorization_url(
                app,
                now=ctx.clock(),
                seller_id=ctx.seller_id,
                region=input.region,
            )
        except Invalid as exc:
            return TikTokAuthorizationUrlPayload(
                url=None, expires_at=None, user_errors=[user_error(exc)]
            )
        return TikTokAuthorizationUrlPayload(
            url=found.url, expires_at=found.expires_at, user_errors=[]
        )
