"""Edited requests: a buyer who edits a return gets a new `return_id` from TikTok, and the old
request is superseded (docs/lifecycle.md#superseded-requests). Pure.

TikTok's return object links the two: the new one carries `pre_return_id` (the request it
replaces), the old one `next_return_id`. Either side may arrive first. Whenever both are held,
the old after-sale leaves every queue: `SUPERSEDED` moves it from any status that is not final
to REQUEST_CLOSED (actor PLATFORM), its queued decision is never sent, and the two link to each
other (`supersedes`, `supersededBy`).
"""

from __future__ import annotations

from datetime import datetime

from aftersales.domain.model import (
    FINAL_STATUSES,
    AfterSaleStatus,
    Change,
    ChangeAction,
    ChangeFields,
    Sale,
)

# The transition, next to the seller actions' table (rules.TRANSITIONS): from any status that
# is not final (an abnormal return, with no status, is never an edited request).
SUPERSEDED_TO = AfterSaleStatus.REQUEST_CLOSED


def can_supersede(status: AfterSaleStatus | None) -> bool:
    return status is not None and status not in FINAL_STATUSES


def supersede(sale: Sale, *, last_event_at: datetime | None, at: datetime) -> Change | None:
    """What closing `sale` because its request was edited changes; None when it is final
    already (a closed, refunded or exchanged request keeps its outcome). `at`: the successor's
    time, kept as the newest moment applied when later, so older reports of the old request are
    stale from now on."""
    if not can_supersede(sale.status):
        return None
    newest = at if last_event_at is None or at > last_event_at else last_event_at
    fields: ChangeFields = {"status": SUPERSEDED_TO, "last_event_at": newest}
    return Change(
        fields=fields,
        action=ChangeAction.SUPERSEDED,
        from_status=sale.status,
        to_status=SUPERSEDED_TO,
    )
