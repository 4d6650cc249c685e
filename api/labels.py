"""Return-label reprint: the mutation and `GET /labels/{id}.pdf`, which serves the PDF.

The download takes the same `Authorization: Bearer <token>` as /graphql and serves a label to
the seller who owns the after-sale only; anyone else gets 404, as if it did not exist. Nothing is
signed or stored: the URL names the after-sale (and the warehouse), the token says who asks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aftersales import accounts, domain, labels
from api.context import Info
from api.errors import UserError
from api.mutations import run_command
from api.queries import parse_id
from api.types import AfterSale

LABEL_PATH = "/labels/{after_sale_id}.pdf"


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


async def _reprint(info: Info, input: ReprintShippingLabelInput) -> ReprintShippingLabelPayload:
    ctx = info.context
    warehouse_id = None
    if input.warehouse_id is not None:
        warehouse_id = parse_id(input.warehouse_id) or 0  # 0: no such warehouse, NOT_FOUND
    printed: list[labels.Label] = []

    async def run(sale_id: int) -> None:
        printed.append(await labels.reprint(ctx.seller_id, sale_id, warehouse_id, now=ctx.clock()))

    payload = await run_command(info, input.id, run)
    label = (
        ShippingLabel(url=label_url(printed[0]), format=LabelFormat.PDF)
        if printed and not payload.user_errors
        else None
    )
    return ReprintShippingLabelPayload(
        after_sale=payload.after_sale, label=label, user_errors=payload.user_errors
    )


@strawberry.type
class LabelMutation:
    reprint_shipping_label = strawberry.mutation(
        resolver=_reprint,
        description="A printable return label (PDF, Code 128 tracking barcode); recorded in"
        " history. For abnormal returns, and returns once they have a shipment.",
    )


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def routes(clock: Callable[[], datetime]) -> list[BaseRoute]:
    async def download(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        seller_id = None
        if scheme.lower() == "bearer" and token.strip():
            seller_id = await accounts.authenticate(token.strip())
        if seller_id is None:
            response = _error(401, "send the header 'Authorization: Bearer <token>'")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        sale_id = parse_id(request.path_params["after_sale_id"])
        raw_warehouse = request.query_params.get("warehouseId")
        warehouse_id = None if raw_warehouse is None else (parse_id(raw_warehouse) or 0)
        if sale_id is None:
            return _error(404, "no after-sale with this id")
        try:
            data = await labels.label_for(seller_id, sale_id, warehouse_id)
        except domain.NotFound as exc:
            return _error(404, exc.message)
        except domain.DomainError as exc:
            return _error(409, exc.message)
        return Response(
            labels.render_pdf(data, printed_at=clock()),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="return-label-{sale_id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    return [Route(LABEL_PATH, download, methods=["GET"])]
