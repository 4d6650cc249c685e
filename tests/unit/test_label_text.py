"""A return label prints Thai and Vietnamese warehouse names and addresses as written.

render_pdf is pure, so the label is drawn here directly and read back with PDFium's text
extraction and zxing-cpp (see tests/e2e/test_labels.py for the decoder and when it skips).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from aftersales.commands.labels import LabelData
from aftersales.domain import model as domain
from aftersales.domain.stock import validate_warehouse
from aftersales.store.records import WarehouseRecord
from api.labels import fonts as label_fonts
from api.labels.pdf import ADDRESS_SIZES, ELLIPSIS, Item, Text, layout, render_pdf
from tests.e2e.test_labels import decoder

TRACKING = "TH2026112000042"
THAI = ("คลังสินค้า กรุงเทพ", "99/1 ถนนสุขุมวิท แขวงคลองเตย กรุงเทพมหานคร 10110")
VIETNAMESE = ("Kho Hà Nội", "Số 1 Đường Láng, Đống Đa, Hà Nội")


def label(name: str, address: str, *, shop_name: str = "Demo Shop", region: str = "TH") -> bytes:
    data = LabelData(
        after_sale_id=7,
        tracking_number=TRACKING,
        carrier="Kerry Express",
        order_id="576461413038785752",
        return_id="4035318479425261",
        type=domain.AfterSaleType.RETURN_AND_REFUND,
        abnormal_reason=None,
        shop_name=shop_name,
        region=region,
        warehouse=WarehouseRecord(id=1, code="BKK1", name=name, address=address),
    )
    return render_pdf(data, printed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


@pytest.mark.parametrize(("name", "address"), [THAI, VIETNAMESE], ids=["thai", "vietnamese"])
def test_a_thai_or_vietnamese_warehouse_prints_as_written(name: str, address: str) -> None:
    pdfium, zxing = decoder()

    page = pdfium.PdfDocument(label(name, address))[0]

    text = page.get_textpage().get_text_range()
    assert f"{name} [BKK1]" in text
    assert address in text
    assert "?" not in text
    image = page.render(scale=300 / 72).to_pil()
    found = zxing.read_barcodes(image)
    assert [(b.text, b.format) for b in found] == [(TRACKING, zxing.BarcodeFormat.Code128)]


def test_a_thai_shop_name_and_a_mixed_line_print_as_written() -> None:
    pdfium, _ = decoder()
    mixed = "Kho Hà Nội / คลังสินค้า กรุงเทพ / Склад"

    page = pdfium.PdfDocument(label(mixed, "", shop_name="ร้านค้าไทย"))[0]

    text = page.get_textpage().get_text_range()
    assert mixed in text
    assert "Shop: ร้านค้าไทย (TH)" in text


def test_thai_marks_moved_for_legibility_still_read_as_written() -> None:
    pdfium, _ = decoder()
    address = "หมู่ที่ 5 ชั้น 3 อาคารป้อมปราการ ปู่"

    page = pdfium.PdfDocument(label("ที่ทำการ ปิ่น", address))[0]

    text = page.get_textpage().get_text_range()
    assert "ที่ทำการ ปิ่น [BKK1]" in text
    assert address in text


def test_only_characters_neither_font_has_become_question_marks() -> None:
    pdfium, _ = decoder()

    page = pdfium.PdfDocument(label("東京 DC", "กรุงเทพ 10110"))[0]

    text = page.get_textpage().get_text_range()
    assert "?? DC [BKK1]" in text
    assert "กรุงเทพ 10110" in text


def test_each_run_takes_the_font_that_has_its_characters() -> None:
    assert label_fonts.runs("99/1 ถนนสุขุมวิท 10110") == [
        (label_fonts.LATIN, "99/1 "),
        (label_fonts.THAI, "ถนนสุขุมวิท 10110"),
    ]
    assert label_fonts.runs("Đống Đa 東") == [(label_fonts.LATIN, "Đống Đa ?")]


def test_a_tone_mark_over_an_upper_vowel_goes_up_and_marks_over_a_tall_consonant_go_left() -> None:
    rise, shift = label_fonts.TONE_RISE, -label_fonts.TALL_SHIFT
    assert label_fonts.placed("ที่นี่") == [
        ("ที", 0, 0),
        ("่", 0, rise),
        ("นี", 0, 0),
        ("่", 0, rise),
    ]
    assert label_fonts.placed("ปู่ ปิ่น") == [
        ("ปู", 0, 0),
        ("่", shift, 0),
        (" ป", 0, 0),
        ("ิ", shift, 0),
        ("่", shift, rise),
        ("น", 0, 0),
    ]


LONG_ADDRESS = (
    "Unit 12B, Tower 3, 1000 Phaholyothin Road, Chomphon Subdistrict, Chatuchak District,"
    " Bangkok 10900, Thailand, loading bay 4 behind the car park, ask for the returns desk"
)
LINE_WIDTH = 200.0


def test_a_long_address_wraps_at_spaces_and_every_word_is_printed() -> None:
    pdfium, _ = decoder()

    page = pdfium.PdfDocument(label("Returns dock", LONG_ADDRESS))[0]

    text = " ".join(page.get_textpage().get_text_range().split())
    assert LONG_ADDRESS in text


def test_wrapped_lines_fit_the_width_and_keep_every_word() -> None:
    lines = label_fonts.wrap(LONG_ADDRESS, 10, LINE_WIDTH)

    assert len(lines) > 1
    assert all(label_fonts.width(line, 10) <= LINE_WIDTH for line in lines)
    assert " ".join(lines) == LONG_ADDRESS


def test_a_thai_run_without_spaces_breaks_inside_but_never_before_a_mark() -> None:
    thai = "กรุงเทพมหานครอมรรัตนโกสินทร์มหินทรายุธยามหาดิลกภพนพรัตน์"

    lines = label_fonts.wrap(thai, 10, 80)

    assert len(lines) > 1
    assert "".join(lines) == thai
    assert all(label_fonts.width(line, 10) <= 80 for line in lines)
    assert not any(unicodedata.category(line[0]) == "Mn" for line in lines)


def worst_case(name: str, code: str, address: str) -> LabelData:
    return LabelData(
        after_sale_id=2_147_483_647,
        tracking_number=TRACKING,
        carrier="Kerry Express",
        order_id="576461413038785752",
        return_id="4035318479425261",
        type=domain.AfterSaleType.RETURN_AND_REFUND,
        abnormal_reason=None,
        shop_name="Demo Shop",
        region="TH",
        warehouse=WarehouseRecord(id=1, code=code, name=name, address=address),
    )


def printed(items: list[Item]) -> str:
    return " ".join(item.text for item in items if isinstance(item, Text))


def test_the_widest_address_the_input_rules_accept_prints_in_full_with_the_longest_name() -> None:
    address = "\n".join(["WWWWWWWWW " * 4 + "WWWWWWWW"] * 8)  # 8 lines, 399 characters
    validate_warehouse("W" * 64, "W" * 200, address)

    items = layout(worst_case("W" * 200, "W" * 64, address))

    text = printed(items)
    assert ELLIPSIS not in text
    assert text.count("WWWWWWWWW") >= 8 * 4
    assert text.endswith("WWWWWWWWW WWWWWWWW")


def test_an_address_longer_than_a_label_holds_is_cut_with_an_ellipsis_never_silently() -> None:
    pdfium, _ = decoder()
    address = "\n".join(f"Line {n} of an address kept from before the limits" for n in range(40))

    page = pdfium.PdfDocument(label("Returns dock", address))[0]

    text = page.get_textpage().get_text_range()
    assert "Line 0 of an address" in text
    assert "Line 39" not in text
    last = [line for line in text.splitlines() if line.startswith("Line ")][-1]
    assert last.endswith(ELLIPSIS)


def test_a_long_address_is_set_smaller_rather_than_cut() -> None:
    address = "\n".join(f"LOT {n}, JALAN BUKIT BINTANG, WISMA WAREHOUSE MMMMM" for n in range(8))
    validate_warehouse("BKK1", "Returns dock", address)

    items = layout(worst_case("Returns dock", "BKK1", address))

    sizes = {item.size for item in items if isinstance(item, Text) and item.text.startswith("LOT ")}
    assert sizes and max(sizes) < ADDRESS_SIZES[0]
    assert ELLIPSIS not in printed(items)
    assert all(line in printed(items) for line in address.splitlines())
