"""`reprintShippingLabel`: records the reprint and says where to fetch the label."""

from __future__ import annotations

import enum
from collections.abc import Awaitable

import strawberry

from aftersales.commands import labels
from api.actions import Command, Done, SellerMutation
from api.context import Context
from api.errors import UserError
from api.ids import parse_id
from api.labels.download import LABEL_PATH
from api.sales.types import AfterSale


@strawberry.enum
class LabelFormat(enum.Enum):
    PDF = "PDF"


@strawberry.type
class ShippingLabel:
    url: str = strawberry.field(
        description="Path of the label on this service; fetch it with the same Bearer token."
    )
    format: LabelFormat


@strawberry.input
class ReprintShippingLabelInput:
    id: strawberry.ID
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The warehouse whose address is printed; default: your only warehouse.",
    )


@strawberry.type
class ReprintShippingLabelPayload:
    after_sale: AfterSale | None
    label: ShippingLabel | None
    user_errors: list[UserError]


def label_url(label: labels.Label) -> str:
    url = LABEL_PATH.format(after_sale_id=label.after_sale_id)
    return url if label.warehouse_id is None else f"{url}?warehouseId={label.warehouse_id}"


def _reprint(ctx: Context, input: ReprintShippingLabelInput) -> Command[labels.Label]:
    warehouse_id = None
    if input.warehouse_id is not None:
        warehouse_id = parse_id(input.warehouse_id) or 0  # 0: no such warehouse, NOT_FOUND

    def run(sale_id: int) -> Awaitable[labels.Label]:
        return labels.reprint(ctx.seller_id, sale_id, warehouse_id, now=ctx.clock())

    return run


def _payload(done: Done[labels.Label]) -> ReprintShippingLabelPayload:
    printed = done.result
    label = ShippingLabel(url=label_url(printed), format=LabelFormat.PDF) if printed else None
    return ReprintShippingLabelPayload(
        after_sale=done.after_sale, label=label, user_errors=done.user_errors
    )


REPRINT = SellerMutation(
    _reprint,
    ReprintShippingLabelInput,
    None,  # no bulk form: a label is printed one at a time
    payload=_payload,
    payload_type=ReprintShippingLabelPayload,
    description="A printable return label (PDF, Code 128 tracking barcode); recorded in"
    " history. For abnormal returns, and returns once they have a shipment.",
)


@strawberry.type
class LabelMutation:
    reprint_shipping_label = REPRINT.field()
