"""The return label as a PDF: a 4 x 6 inch page with a Code 128 barcode of the tracking number,
the carrier, the order and return ids and the address of the warehouse the parcel goes back to."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from aftersales.commands.labels import LabelData
from aftersales.domain.model import AfterSaleType
from aftersales.store.records import WarehouseRecord
from api.labels import fonts as label_fonts

PAGE = (4 * inch, 6 * inch)
MARGIN = 6 * mm
FOOTER = 14  # room kept at the bottom for the 'Reprinted' line
LEADING = 1.35  # line height, as a multiple of the font size
# The warehouse's name and address are set at the largest of these sizes at which all of them
# fit (the name one point larger, in bold). The input rules (aftersales/domain/stock.py) keep
# an address within what fits; an older, longer one prints up to where the page ends, and the
# last line printed ends with ELLIPSIS, so a cut always shows.
ADDRESS_SIZES = (10.0, 9.0, 8.0, 7.0, 6.0)
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Text:
    text: str
    size: float
    bold: bool = False

    @property
    def height(self) -> float:
        return self.size * LEADING


@dataclass(frozen=True)
class Gap:
    height: float
    rule: bool = False  # a horizontal rule across the page, at the bottom of the gap


@dataclass(frozen=True)
class Barcode:
    code: Code128

    @property
    def height(self) -> float:
        return float(self.code.height)


Item = Text | Gap | Barcode


def render_pdf(data: LabelData, *, printed_at: datetime) -> bytes:
    """One 4 x 6 inch page. Text in Noto Sans and Noto Sans Thai (label_fonts): Latin, Vietnamese,
    Greek, Cyrillic and Thai print as written; a character neither font has shows as '?'."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=PAGE, invariant=True)
    pdf.setTitle(f"Return label {data.tracking_number}")
    pdf.setAuthor("aftersales")
    width, height = PAGE
    y = height - MARGIN
    for item in layout(data):
        y -= item.height
        if isinstance(item, Text):
            label_fonts.draw(pdf, MARGIN, y, item.text, item.size, item.bold)
        elif isinstance(item, Barcode):
            item.code.drawOn(pdf, (width - item.code.width) / 2, y)
        elif item.rule:
            pdf.line(MARGIN, y, width - MARGIN, y)
    reprinted = f"Reprinted {printed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    label_fonts.draw(pdf, MARGIN, MARGIN, reprinted, 7)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def layout(data: LabelData) -> list[Item]:
    """What the label shows, top to bottom, wrapped to the page's width; what does not fit
    above the footer is cut, and the cut is marked (`ELLIPSIS`)."""
    width, height = PAGE
    measure = width - 2 * MARGIN
    room = height - 2 * MARGIN - FOOTER
    abnormal = data.type is AfterSaleType.ABNORMAL_RETURN
    if data.return_id:
        returned = f"Return: {data.return_id}"
    else:
        reason = data.abnormal_reason.value if data.abnormal_reason else "unknown reason"
        returned = f"Abnormal return ({reason.replace('_', ' ').lower()})"
    head = [
        *_wrapped(data.carrier or "Carrier unknown", 16, measure, bold=True),
        *_wrapped(
            "ABNORMAL RETURN (RETURN TO SENDER)" if abnormal else "RETURN PARCEL", 9, measure
        ),
        Gap(4),
        Barcode(_barcode(data.tracking_number, measure)),
        *_wrapped(data.tracking_number, 14, measure, bold=True),
        Gap(6),
        *_wrapped(f"Order: {data.order_id}", 10, measure),
        *_wrapped(returned, 10, measure),
        *_wrapped(
            f"After-sale: {data.after_sale_id}   Shop: {data.shop_name} ({data.region})", 8, measure
        ),
        Gap(8, rule=True),
        *_wrapped("RETURN TO", 9, measure, bold=True),
    ]
    left = room - sum(item.height for item in head)
    return _fit([*head, *_return_to(data.warehouse, measure, left)], room, measure)


def _return_to(warehouse: WarehouseRecord | None, measure: float, room: float) -> list[Item]:
    """The warehouse's name and address at the largest size where all of it fits in `room`
    (else at the smallest, to be cut by `_fit`)."""
    if warehouse is None:
        return _wrapped("(no warehouse named: reprint with a warehouseId)", 9, measure)
    block: list[Item] = []
    for size in ADDRESS_SIZES:
        block = _wrapped(f"{warehouse.name} [{warehouse.code}]", size + 1, measure, bold=True)
        for text in (warehouse.address or "").splitlines():
            block += _wrapped(text.strip(), size, measure)
        if sum(item.height for item in block) <= room:
            break
    return block


def _wrapped(text: str, size: float, measure: float, *, bold: bool = False) -> list[Item]:
    return [Text(part, size, bold) for part in label_fonts.wrap(text, size, measure)]


def _fit(items: list[Item], room: float, measure: float) -> list[Item]:
    """`items` up to the first that does not fit in `room`; if any is left out, the last text
    line kept ends with `ELLIPSIS`, shortened to make room for it."""
    kept: list[Item] = []
    used = 0.0
    for item in items:
        if used + item.height > room:
            break
        kept.append(item)
        used += item.height
    else:
        return kept
    for i in range(len(kept) - 1, -1, -1):
        last = kept[i]
        if isinstance(last, Text):
            kept[i] = Text(_ellipsized(last.text, last.size, measure), last.size, last.bold)
            break
    return kept


def _ellipsized(text: str, size: float, measure: float) -> str:
    """`text` ending with `ELLIPSIS`, as much of it as fits in `measure` with it."""
    cut = len(text)
    while cut > 0 and label_fonts.width(text[:cut].rstrip() + ELLIPSIS, size) > measure:
        cut -= 1
    return text[:cut].rstrip() + ELLIPSIS


def _barcode(value: str, max_width: float) -> Code128:
    """Code 128 at the widest bars that fit (scanners like wide bars), never under 0.2 mm."""
    bar_width = 0.5 * mm
    barcode = Code128(value, barWidth=bar_width, barHeight=22 * mm, humanReadable=False)
    if barcode.width > max_width:
        bar_width = max(0.2 * mm, bar_width * max_width / barcode.width)
        barcode = Code128(value, barWidth=bar_width, barHeight=22 * mm, humanReadable=False)
    return barcode
