"""Reports that come late: a TikTok report equal to or older than the last change applied is
stale (docs/webhooks.md, "Ordering and duplicates"). Its status is ignored; it still fills in
the details the after-sale lacks (`fill_missing`), and shows TikTok's status when it agrees
with ours, confirms a rejection, or our last decision FAILED (`platform_seen`). Pure.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.domain import cancellations
from aftersales.domain.model import AfterSaleStatus, Change, ChangeFields, Sale
from aftersales.domain.rules import seller_response_deadline
from aftersales.domain.tiktok import (
    DETAILS_FILLED_ACTION,
    PLATFORM_STATUSES,
    ReturnReport,
    edit_fields,
)

S = AfterSaleStatus


def is_stale(report: ReturnReport, last_event_at: datetime | None) -> bool:
    """Equal or older than the last change already applied: its status is ignored, and it may
    only fill in what is missing (`fill_missing`)."""
    return last_event_at is not None and report.update_time <= last_event_at


def platform_seen(
    sale: Sale,
    report: ReturnReport,
    *,
    platform_status: str | None,
    platform_updated_at: datetime | None,
    failed: bool,
) -> ChangeFields:
    """What a stale report still sets besides missing details (SPEC §3.1, §10): `platform_status`
    and TikTok's last update time, when the report agrees with our status (TikTok confirming a
    decision we pushed, often within the same second) or our last decision FAILED (TikTok's
    state is then shown beside the seller's decision), and it is not older than the report that
    last set `platform_status`. The time only ever moves forward; the status never changes."""
    reported = PLATFORM_STATUSES.get(report.return_status.upper())
    agrees = (reported is not None and reported is sale.status) or (
        report.is_cancellation
        and cancellations.confirms_rejection(report.return_status, sale.status)
    )
    if not (agrees or failed):
        return {}
    if platform_updated_at is not None and report.update_time < platform_updated_at:
        return {}
    fields: ChangeFields = {}
    if report.return_status != platform_status:
        fields["platform_status"] = report.return_status
    if platform_updated_at is None or report.update_time > platform_updated_at:
        fields["platform_updated_at"] = report.update_time
    return fields


def fill_missing(sale: Sale, report: ReturnReport, *, has_items: bool) -> Change | None:
    """What a stale report still brings: each detail it carries that the after-sale lacks
    (`has_items`: whether it has lines already), or None when it brings nothing.

    It never overwrites a value and never changes the status or the newest moment applied
    (`last_event_at`). The seller response deadline counts as missing while it is still the
    default one set at creation: TikTok's own deadline replaces that default."""
    fields: ChangeFields = {}
    if sale.refund_requested is None and report.refund_total is not None:
        fields["refund_requested"] = report.refund_total
        if sale.status is S.REFUNDED and sale.refund_amount is None:
            # Refunded with no amount known: had this report come first, the refund would have
            # been the amount requested (see `interpret`).
            fields["refund_amount"] = report.refund_total
    if sale.currency is None and report.currency:
        fields["currency"] = report.currency.upper()
    if not has_items and report.items:
        fields["items"] = report.items
    if sale.reason is None and report.reason_text:
        fields["reason"] = report.reason_text
    if sale.tracking_number is None and report.tracking_number:
        fields["tracking_number"] = report.tracking_number
    if sale.carrier is None and report.carrier:
        fields["carrier"] = report.carrier
    if report.seller_deadline is not None and _default_deadline(sale):
        fields["seller_response_deadline"] = report.seller_deadline
    edit_fields(fields, sale, report, only_missing=True)
    if not fields:
        return None
    return Change(
        fields=fields, action=DETAILS_FILLED_ACTION, from_status=sale.status, to_status=sale.status
    )


def _default_deadline(sale: Sale) -> bool:
    """The after-sale has no seller response deadline from TikTok: none, or the default one."""
    if sale.seller_response_deadline is None:
        return True
    if sale.created_at is None:
        return False
    return sale.seller_response_deadline == seller_response_deadline(sale.type, sale.created_at)
