"""The return label's fonts: Noto Sans and Noto Sans Thai, from their PyPI wheels.

Noto Sans covers Latin (Vietnamese included), Greek and Cyrillic; Noto Sans Thai covers Thai.
Both wheels ship variable fonts; reportlab embeds their default instance (regular, normal
width), so there is no real bold: `draw` thickens the strokes instead (fill and stroke).
Reportlab does not shape text (no OpenType mark positioning), so `placed` does the two Thai
adjustments that matter for legibility: a tone mark over an upper vowel is raised above it, and
marks over a tall consonant (ป ฝ ฟ ฬ) move left off its stem. Nothing else is shaped.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

LATIN = "NotoSans"
THAI = "NotoSansThai"
_FILES = {
    LATIN: ("fontpkg_noto_sans", "NotoSans[wdth,wght].ttf"),
    THAI: ("fontpkg_noto_sans_thai", "NotoSansThai[wdth,wght].ttf"),
}
BOLD_STROKE = 0.035  # outline width for the fake bold, as a fraction of the font size
_UPPER_VOWELS = frozenset("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e4d")
_TONES = frozenset("\u0e48\u0e49\u0e4a\u0e4b\u0e4c")
_ABOVE = _UPPER_VOWELS | _TONES | frozenset("\u0e47\u0e4e")
_BELOW = frozenset("\u0e38\u0e39\u0e3a")
_TALL = frozenset("\u0e1b\u0e1d\u0e1f\u0e2c")
TONE_RISE = 0.25  # how far a tone mark over an upper vowel goes up, in ems
TALL_SHIFT = 0.2  # how far marks over a tall consonant go left, in ems


@cache
def coverage() -> dict[str, frozenset[int]]:
    """Register the fonts (once, on first use): each font's name -> the code points it has."""
    covered = {}
    for name, (package, filename) in _FILES.items():
        font = TTFont(name, str(files(package) / "files" / filename))
        pdfmetrics.registerFont(font)
        covered[name] = frozenset(font.face.charToGlyph)
    return covered


def runs(text: str) -> list[tuple[str, str]]:
    """Split text into (font, chars) runs: a run keeps its font while that font has the next
    character, else the first font that has it; a character no font has becomes '?'."""
    covered = coverage()
    out: list[tuple[str, str]] = []
    for char in unicodedata.normalize("NFC", text):
        current = out[-1][0] if out else None
        if current is not None and ord(char) in covered[current]:
            font = current
        else:
            font = next((name for name in _FILES if ord(char) in covered[name]), LATIN)
            char = char if ord(char) in covered[font] else "?"
        if font == current:
            out[-1] = (font, out[-1][1] + char)
        else:
            out.append((font, char))
    return out


def placed(chars: str) -> list[tuple[str, float, float]]:
    """Thai text as (chars, dx, dy) pieces, offsets in ems (see the module docstring)."""
    pieces: list[tuple[str, float, float]] = []
    base = previous = ""
    for char in chars:
        dx = dy = 0.0
        if char in _ABOVE and base in _TALL:
            dx = -TALL_SHIFT
        if char in _TONES and previous in _UPPER_VOWELS:
            dy = TONE_RISE
        if char not in _ABOVE and char not in _BELOW:
            base = char
        previous = char
        if pieces and pieces[-1][1:] == (dx, dy):
            pieces[-1] = (pieces[-1][0] + char, dx, dy)
        else:
            pieces.append((char, dx, dy))
    return pieces


def draw(pdf: Canvas, x: float, y: float, text: str, size: float, bold: bool = False) -> None:
    """Draw one line of text at (x, y), each run in the font that has its characters.

    A line with moved Thai marks carries its text as ActualText (PDF marked content), so text
    extraction and search read it as written rather than as the moved glyphs."""
    pieces = [
        (font, piece, dx, dy)
        for font, chars in runs(text)
        for piece, dx, dy in (placed(chars) if font == THAI else [(chars, 0.0, 0.0)])
    ]
    moved = any(dx or dy for _, _, dx, dy in pieces)
    pdf.saveState()
    if moved:
        actual = "".join(piece for _, piece, _, _ in pieces).encode("utf-16-be").hex()
        pdf.addLiteral(f"/Span <</ActualText <FEFF{actual}>>> BDC")
    line = pdf.beginText(x, y)
    if bold:
        line.setTextRenderMode(2)
        pdf.setLineWidth(size * BOLD_STROKE)
    for font, piece, dx, dy in pieces:
        line.setFont(font, size)
        line.setTextOrigin(x + dx * size, y)
        line.setRise(dy * size)
        line.textOut(piece)
        x += pdfmetrics.stringWidth(piece, font, size)
    pdf.drawText(line)
    if moved:
        pdf.addLiteral("EMC")
    pdf.restoreState()


def width(text: str, size: float) -> float:
    """The drawn width of `text` in points, run by run."""
    return sum(pdfmetrics.stringWidth(chars, font, size) for font, chars in runs(text))


def wrap(text: str, size: float, max_width: float) -> list[str]:
    """Break `text` into lines no wider than `max_width`: at spaces, and inside a word too long
    for a line (Thai writes no spaces between words), never just before a combining mark."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if width(candidate, size) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while width(word, size) > max_width:
            cut = _fit(word, size, max_width)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _fit(word: str, size: float, max_width: float) -> int:
    """The longest prefix of `word` that fits and does not separate a mark from its base."""
    cut = 1
    for end in range(1, len(word)):
        if width(word[:end], size) > max_width:
            break
        if unicodedata.category(word[end]) != "Mn":
            cut = end
    return cut
