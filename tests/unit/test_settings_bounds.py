"""Numeric settings are bounded from above and odd URLs are refused by name: a huge value is one
`ConfigError`, never an OverflowError when a deadline is computed later."""

from __future__ import annotations

import pytest

from aftersales.settings import ConfigError, load_settings

HUGE = "1" + "0" * 20


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SWEEP_INTERVAL_SECONDS", HUGE),
        ("DISPUTE_WINDOW_SECONDS", "1000000000000000"),
        ("DISPUTE_WINDOW_SECONDS", str(10 * 365 * 86400 + 1)),  # just past ten years
        ("DISPUTE_WINDOW_REGION_SECONDS", "ID=1000000000000000"),
        ("TIKTOK_RETRY_MAX_SECONDS", HUGE),
        ("TIKTOK_POLL_INTERVAL_SECONDS", "86401"),
        ("WEBHOOK_MAX_BYTES", "1" + "0" * 30),
        ("WEBHOOK_MAX_BYTES", "9" * 5000),  # past int()'s digit limit
        ("TIKTOK_API_BASE_URL", "http://[::1"),
    ],
)
def test_an_out_of_bounds_setting_is_a_config_error_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        load_settings({name: value})

    assert len(str(caught.value)) < 300  # a long value is cut, not echoed whole


def test_the_largest_allowed_values_load() -> None:
    settings = load_settings(
        {
            "DISPUTE_WINDOW_SECONDS": str(10 * 365 * 86400),
            "DISPUTE_WINDOW_REGION_SECONDS": f"ID={10 * 365 * 86400}",
            "SWEEP_INTERVAL_SECONDS": "86400",
        }
    )

    assert settings.dispute_windows.default.days == 3650
    assert settings.sweep_interval.days == 1
