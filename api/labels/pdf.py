"""The return label as a PDF: a 4 x 6 inch page with a Code 128 barcode of the tracking number,
the carrier, the order and return ids and the address of the warehouse the parcel goes back to."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from aftersales.commands.labels import LabelData
from aftersales.domain.model import AfterSaleType
from api.labels import fonts as label_fonts

PAGE = (4 * inch, 6 * inch)
MARGIN = 6 * mm


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
    abnormal = data.type is AfterSaleType.ABNORMAL_RETURN
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
