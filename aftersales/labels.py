"""Return shipping labels (SPEC §2 REPRINT_SHIPPING_LABEL): who may print one, and the PDF.

`reprint` is the command: it checks the rule, records the reprint in history and says which
label to fetch. `label_for` gathers what the label shows (read only, for the download), and
`render_pdf` draws it: a 4 x 6 inch page with a Code 128 barcode of the tracking number, the
carrier, the order and return ids and the address of the warehouse the parcel goes back to.

When no warehouse is named, a seller's only warehouse is used; with several, the label carries
no return address (name one with `warehouseId`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from aftersales import domain, label_fonts
from aftersales.concurrency import Lost, retrying
from aftersales.domain import Actor, EventSource, InvalidTransition, NotFound, SellerAction
from aftersales.store import queries
from aftersales.store import repository as repo
from aftersales.store import stock as store
from aftersales.store.stock import WarehouseRecord

PAGE = (4 * inch, 6 * inch)
MARGIN = 6 * mm


@dataclass(frozen=True)
class Label:
    """Which label to fetch: the after-sale, and the warehouse whose address it carries."""

    after_sale_id: int
    warehouse_id: int | None


@dataclass(frozen=True)
class LabelData:
    after_sale_id: int
    tracking_number: str
    carrier: str | None
    order_id: str
    return_id: str | None
    type: domain.AfterSaleType
    abnormal_reason: domain.AbnormalReason | None
    shop_name: str
    region: str
    warehouse: WarehouseRecord | None


async def _warehouse(seller_id: int, warehouse_id: int | None) -> WarehouseRecord | None:
    if warehouse_id is None:
        owned = await store.warehouses_of(seller_id)
        return owned[0] if len(owned) == 1 else None
    found = await store.warehouse_of(seller_id, warehouse_id)
    if found is None:
        raise NotFound("no warehouse with this id", field="warehouseId")
    return found


def _check(sale: domain.Sale, tracking_number: str | None) -> str:
    domain.check(sale, SellerAction.REPRINT_SHIPPING_LABEL)
    if not tracking_number:
        raise InvalidTransition("this parcel has no tracking number yet, so there is no label")
    return tracking_number


async def label_for(seller_id: int, sale_id: int, warehouse_id: int | None) -> LabelData:
    """What the seller's label for this after-sale shows; NotFound for anyone else."""
    record = await queries.get_sale(seller_id, sale_id)
    if record is None:
        raise NotFound("no after-sale with this id", field="id")
    tracking_number = _check(record.as_sale(), record.tracking_number)
    return LabelData(
        after_sale_id=record.id,
        tracking_number=tracking_number,
        carrier=record.carrier,
        order_id=record.order_id,
        return_id=record.return_id,
        type=record.type,
        abnormal_reason=record.abnormal_reason,
        shop_name=record.shop.name,
        region=record.shop.region,
        warehouse=await _warehouse(seller_id, warehouse_id),
    )


async def reprint(
    seller_id: int,
    sale_id: int,
    warehouse_id: int | None,
    *,
    now: datetime,
    source: EventSource = EventSource.GRAPHQL,
) -> Label:
    """REPRINT_SHIPPING_LABEL: allowed as domain.check says; recorded in history."""

    async def attempt() -> Label:
        async with repo.transaction() as conn:
            found = await repo.load_for_seller(conn, seller_id, sale_id)
            if found is None:
                raise NotFound("no after-sale with this id", field="id")
            row, shop = found
            _check(repo.to_sale(row, shop.region), row.tracking_number)
            warehouse = await _warehouse(seller_id, warehouse_id)
            if not await repo.bump_version(conn, row, now):
                raise Lost
            await repo.append_history(
                conn,
                sale_id,
                at=now,
                actor=Actor.SELLER,
                action=SellerAction.REPRINT_SHIPPING_LABEL.value,
                from_status=row.status,
                to_status=row.status,
                source=source,
                detail={"warehouse_id": warehouse.id} if warehouse else None,
            )
            return Label(sale_id, warehouse.id if warehouse else None)

    return await retrying(attempt)


FOOTER = 14  # room kept at the bottom for the 'Reprinted' line


def render_pdf(data: LabelData, *, printed_at: datetime) -> bytes:
    """One 4 x 6 inch page. Text in Noto Sans and Noto Sans Thai (label_fonts): Latin, Vietnamese,
    Greek, Cyrillic and Thai print as written; a character neither font has shows as '?'."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=PAGE, invariant=True)
    pdf.setTitle(f"Return label {data.tracking_number}")
    pdf.setAuthor("aftersales")
    width, height = PAGE
    y = height - MARGIN

    def line(text: str, size: float = 9, bold: bool = False) -> None:
        """Draw `text`, wrapped to the page width, stopping above the footer."""
        nonlocal y
        for part in label_fonts.wrap(text, size, width - 2 * MARGIN):
            if y - size * 1.35 < MARGIN + FOOTER:
                return
            y -= size * 1.35
            label_fonts.draw(pdf, MARGIN, y, part, size, bold)

    line(data.carrier or "Carrier unknown", 16, bold=True)
    abnormal = data.type is domain.AfterSaleType.ABNORMAL_RETURN
    line("ABNORMAL RETURN (RETURN TO SENDER)" if abnormal else "RETURN PARCEL", 9)
    y -= 4
    barcode = _barcode(data.tracking_number, width - 2 * MARGIN)
    y -= barcode.height
    barcode.drawOn(pdf, (width - barcode.width) / 2, y)
    line(data.tracking_number, 14, bold=True)
    y -= 6
    line(f"Order: {data.order_id}", 10)
    if data.return_id:
        line(f"Return: {data.return_id}", 10)
    else:
        reason = data.abnormal_reason.value if data.abnormal_reason else "unknown reason"
        line(f"Abnormal return ({reason.replace('_', ' ').lower()})", 10)
    line(f"After-sale: {data.after_sale_id}   Shop: {data.shop_name} ({data.region})", 8)
    y -= 8
    pdf.line(MARGIN, y, width - MARGIN, y)
    line("RETURN TO", 9, bold=True)
    if data.warehouse is None:
        line("(no warehouse named: reprint with a warehouseId)", 9)
    else:
        line(f"{data.warehouse.name} [{data.warehouse.code}]", 11, bold=True)
        for text in (data.warehouse.address or "").splitlines()[:8]:
            line(text.strip(), 10)
    reprinted = f"Reprinted {printed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    label_fonts.draw(pdf, MARGIN, MARGIN, reprinted, 7)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _barcode(value: str, max_width: float) -> Code128:
    """Code 128 at the widest bars that fit (scanners like wide bars), never under 0.2 mm."""
    bar_width = 0.5 * mm
    barcode = Code128(value, barWidth=bar_width, barHeight=22 * mm, humanReadable=False)
    if barcode.width > max_width:
        bar_width = max(0.2 * mm, bar_width * max_width / barcode.width)
        barcode = Code128(value, barWidth=bar_width, barHeight=22 * mm, humanReadable=False)
    return barcode
