"""`rejectReasons(id)`: the reasons TikTok accepts for rejecting this return."""

from __future__ import annotations

import strawberry

from aftersales.domain.errors import NotFound, TikTokRefused
from aftersales.store.uow import reading
from aftersales.tiktok.client import TikTokError
from api.context import Info
from api.errors import graphql_error
from api.ids import parse_id


@strawberry.type
class RejectReason:
    code: str = strawberry.field(description="What to send as `reasonCode`.")
    text: str = strawberry.field(description="TikTok's wording, to show the seller.")


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description=(
            "TikTok's reasons to reject this return at its current stage, in the shop's locale"
            " (cached an hour per return and status). Empty when the shop does not sync with"
            " TikTok, or for an abnormal return."
        )
    )
    async def reject_reasons(self, info: Info, id: strawberry.ID) -> list[RejectReason]:
        sale_id = parse_id(id)
        sale = None
        if sale_id:
            async with reading() as r:
                sale = await r.sales.get_sale(info.context.seller_id, sale_id)
        if sale is None:
            raise graphql_error(NotFound("no after-sale with this id", field="id"))
        link = info.context.link
        creds = await link.shop(sale.shop.id) if link is not None else None
        if link is None or creds is None or sale.return_id is None:
            return []
        try:
            # Per stage: the reasons to reject a request differ from those for a package.
            stage = f"{sale.status.value if sale.status else ''}/{sale.platform_status or ''}"
            reasons = await link.reject_reasons(creds, sale.return_id, stage)
        except TikTokError as exc:
            raise graphql_error(TikTokRefused(exc.describe())) from None
        return [RejectReason(code=code, text=text) for code, text in reasons]
