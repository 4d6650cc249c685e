"""Every change the domain makes names its history action from one enum (`ChangeAction`)."""

from __future__ import annotations

import pytest

from aftersales.domain.model import ChangeAction, SellerAction
from aftersales.domain.parcels import PARCEL_RETURN_STATUSES, ParcelEvent
from tests.support.clock import T0


@pytest.mark.parametrize("action", SellerAction, ids=str)
def test_each_seller_action_is_recorded_under_its_own_name(action: SellerAction) -> None:
    assert ChangeAction.of(action).value == action.value


@pytest.mark.parametrize("status", sorted(PARCEL_RETURN_STATUSES))
def test_each_parcel_status_that_changes_something_has_a_history_action(status: str) -> None:
    event = ParcelEvent(event_id="e1", occurred_at=T0, shop_id="1", status=status.lower())

    assert event.action == f"PARCEL_{status}"
    assert isinstance(event.action, ChangeAction)


def test_an_action_is_stored_and_shown_as_its_name() -> None:
    assert ChangeAction.DISPUTE_WINDOW_EXPIRED == "DISPUTE_WINDOW_EXPIRED"
    assert str(ChangeAction.PLATFORM_DETAILS_FILLED) == "PLATFORM_DETAILS_FILLED"
