"""A shop's region is an officially assigned ISO 3166-1 alpha-2 code (domain/regions.py)."""

from __future__ import annotations

import pytest

from aftersales.domain.regions import ISO_3166_ALPHA2, is_region


def test_the_list_holds_the_249_assigned_codes() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in ISO_3166_ALPHA2)


@pytest.mark.parametrize("code", ["ID", "MY", "TH", "VN", "PH", "SG", "US", "GB", "SS", "BQ"])
def test_tiktok_markets_and_recent_codes_are_regions(code: str) -> None:
    assert is_region(code)


@pytest.mark.parametrize("code", ["XX", "UK", "EU", "XK", "AA", "ZZ", "QM", "AN", "my", ""])
def test_reserved_user_assigned_withdrawn_and_lower_case_codes_are_not(code: str) -> None:
    assert not is_region(code)
