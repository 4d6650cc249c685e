"""The language TikTok's texts (reject reasons) are asked in: a shop's `locale`, a BCP-47 tag,
set by its operator or taken from its region (docs/tiktok-sync.md#reject-reasons). Pure."""

from __future__ import annotations

import re

from aftersales.domain.errors import Invalid

# TikTok's markets and the language its seller pages use there; English elsewhere.
REGION_LOCALES: dict[str, str] = {
    "ID": "id-ID",
    "VN": "vi-VN",
    "TH": "th-TH",
    "MY": "ms-MY",
    "PH": "en-PH",
    "SG": "en-SG",
    "US": "en-US",
    "GB": "en-GB",
}
DEFAULT_LOCALE = "en-US"
MAX_LOCALE = 35  # the column's length: longer than any tag a shop needs

# language[-script][-region][-variant...]: BCP-47's common shape (no extensions).
_TAG = re.compile(
    r"(?P<language>[A-Za-z]{2,3})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
)


def for_region(region: str) -> str:
    """The locale of a shop in `region` that set none."""
    return REGION_LOCALES.get(region.upper(), DEFAULT_LOCALE)


def of_shop(locale: str | None, region: str) -> str:
    return locale or for_region(region)


def normalize(tag: str) -> str:
    """`tag` as a BCP-47 language tag in its usual case (`id-ID`, `zh-Hant-TW`), or `Invalid`."""
    tag = tag.strip().replace("_", "-")
    match = _TAG.fullmatch(tag) if len(tag) <= MAX_LOCALE else None
    if match is None:
        raise Invalid(
            f"locale {tag!r} is not a language tag such as id-ID, vi-VN or en-US", field="locale"
        )
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    parts.extend(v.lower() for v in match["variants"].split("-") if v)
    return "-".join(parts)
