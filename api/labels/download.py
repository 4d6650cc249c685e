"""`GET /labels/{id}.pdf`: the return label's PDF.

It takes the same `Authorization: Bearer <token>` as /graphql, answers the same 401, and serves a
label to the seller who owns the after-sale only; anyone else gets 404, as if it did not exist.
Nothing is signed or stored: the URL names the after-sale (and the warehouse), the token says
who asks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aftersales.commands import labels
from aftersales.domain.errors import DomainError
from api.auth import Unauthenticated, seller_of, unauthorized
from api.errors import http_status_of
from api.ids import parse_id
from api.labels.pdf import render_pdf

LABEL_PATH = "/labels/{after_sale_id}.pdf"


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def routes(clock: Callable[[], datetime]) -> list[BaseRoute]:
    async def download(request: Request) -> Response:
        try:
            seller_id = await seller_of(request)
        except Unauthenticated as exc:
            return unauthorized(exc)
        sale_id = parse_id(request.path_params["after_sale_id"])
        raw_warehouse = request.query_params.get("warehouseId")
        warehouse_id = None if raw_warehouse is None else (parse_id(raw_warehouse) or 0)
        if sale_id is None:
            return _error(404, "no after-sale with this id")
        try:
            data = await labels.label_for(seller_id, sale_id, warehouse_id)
        except DomainError as exc:
            return _error(http_status_of(exc), exc.message)
        return Response(
            render_pdf(data, printed_at=clock()),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="return-label-{sale_id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    return [Route(LABEL_PATH, download, methods=["GET"])]
