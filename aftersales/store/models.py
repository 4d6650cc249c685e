"""Tortoise models: the only module that defines tables. Migrations are generated from it."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from aftersales.domain.model import (
    AbnormalReason,
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    EventSource,
    ReturnStatus,
    StockCondition,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class Seller(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "seller"


# A bearer token; only its SHA-256 is stored.
class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    seller: fields.ForeignKeyRelation[Seller] = fields.ForeignKeyField(
        "models.Seller", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=100, null=True)  # the operator's label, e.g. "erp-sync"
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)  # never, when null
    # Recorded at most once a minute per token (store/accounts.py), not on every request.
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


# One OAuth authorization a seller started (`shops connect`, `tiktokAuthorizationUrl`): only the
# SHA-256 of its state is stored; it works once (`used_at`), until `expires_at`.
class OAuthState(Model):
    id = fields.IntField(primary_key=True)
    state_hash = fields.CharField(max_length=64, unique=True)
    seller: fields.ForeignKeyRelation[Seller] = fields.ForeignKeyField(
        "models.Seller", related_name="oauth_states", on_delete=fields.CASCADE
    )
    region = fields.CharField(max_length=2, null=True)  # the region asked for, if any
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oauth_state"


class Shop(Model):
    id = fields.IntField(primary_key=True)
    seller: fields.ForeignKeyRelation[Seller] = fields.ForeignKeyField(
        "models.Seller", related_name="shops", on_delete=fields.CASCADE
    )
    shop_id = fields.CharField(max_length=64, unique=True)  # TikTok's id, a string
    region = fields.CharField(max_length=2)
    name = fields.CharField(max_length=200)
    # TikTok API credentials (docs/tiktok-sync.md). Both tokens are stored encrypted
    # (aftersales/store/credentials.py): never read them but through that module.
    access_token = fields.TextField(null=True)
    refresh_token = fields.TextField(null=True)
    shop_cipher = fields.CharField(max_length=200, null=True)
    access_token_expires_at = fields.DatetimeField(null=True)
    refresh_token_expires_at = fields.DatetimeField(null=True)
    credentials_updated_at = fields.DatetimeField(null=True)
    # Polling: returns updated up to this instant have been imported; the next poll starts
    # from it minus an overlap. `poll_lease_until`: one replica polls a shop at a time.
    synced_until = fields.DatetimeField(null=True)
    poll_lease_until = fields.DatetimeField(null=True)
    # Why the shop's last poll, on-demand sync or credential read failed (None: it went
    # through); at most 1,000 characters. Shown as `shops { syncError }` and in /health/jobs.
    sync_error = fields.TextField(null=True)
    # The connection (aftersales/domain/connection.py): when TikTok revoked the authorization
    # (webhook type 6, or a refused token refresh; the reason in `sync_error`), and the end of
    # the authorization TikTok announced (webhook type 7's `expiration_time`). Both cleared
    # when new credentials are set.
    disconnected_at = fields.DatetimeField(null=True)
    announced_expiration_at = fields.DatetimeField(null=True)
    # The language TikTok's texts are asked in (reject reasons): a BCP-47 tag set with
    # `shops add|credentials --locale`; None: the shop's region's (aftersales/domain/locales.py).
    locale = fields.CharField(max_length=35, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "shop"


class AfterSale(Model):
    id = fields.IntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="after_sales", on_delete=fields.RESTRICT
    )
    return_id = fields.CharField(max_length=64, null=True)  # null for abnormal returns
    order_id = fields.CharField(max_length=64)
    type = fields.CharEnumField(AfterSaleType, max_length=24)
    status = fields.CharEnumField(AfterSaleStatus, max_length=32, null=True)
    return_status = fields.CharEnumField(ReturnStatus, max_length=16)
    platform_status = fields.CharField(max_length=64, null=True)
    reason = fields.TextField(null=True)  # the buyer's stated reason
    reject_reason = fields.TextField(null=True)  # the seller's, on a rejection
    abnormal_reason = fields.CharEnumField(AbnormalReason, max_length=24, null=True)
    currency = fields.CharField(max_length=3, null=True)
    refund_requested = fields.DecimalField(**MONEY, null=True)
    refund_amount = fields.DecimalField(**MONEY, null=True)
    partial_refund_offer = fields.DecimalField(**MONEY, null=True)
    tracking_number = fields.CharField(max_length=64, null=True)
    carrier = fields.CharField(max_length=100, null=True)
    seller_response_deadline = fields.DatetimeField(null=True)
    dispute_deadline = fields.DatetimeField(null=True)
    dispute_status = fields.CharEnumField(DisputeStatus, max_length=16, default=DisputeStatus.NONE)
    # The newest TikTok update_time applied or local change made: reports at or before it are stale.
    last_event_at = fields.DatetimeField(null=True)
    # The newest logistics event applied: older ones never move the parcel backwards.
    parcel_event_at = fields.DatetimeField(null=True)
    returned_at = fields.DatetimeField(null=True)
    # Abnormal returns have no return id: "order_id/tracking_number" keeps them unique per shop.
    parcel_key = fields.CharField(max_length=160, null=True)
    sync_status = fields.CharField(max_length=16, default="LOCAL_ONLY")
    sync_error = fields.TextField(null=True)
    sync_attempts = fields.IntField(default=0, db_default=0)
    # TikTok's own update_time of the report that last set `platform_status` (docs/webhooks.md):
    # a later report that agrees with our status may still set it; this never moves back.
    platform_updated_at = fields.DatetimeField(null=True)
    # TikTok's `is_quick_refund` and an edited request's links (aftersales/domain/edits.py):
    # the return it replaces (`pre_return_id`) and the one replacing it (`next_return_id`).
    quick_refund = fields.BooleanField(default=False, db_default=False)
    pre_return_id = fields.CharField(max_length=64, null=True)
    next_return_id = fields.CharField(max_length=64, null=True)
    # A cancellation TikTok applied: the warehouse must not ship the order (migration 0011
    # indexes the few rows where it is true). Written with the status that sets it.
    must_not_ship = fields.BooleanField(default=False, db_default=False)
    # A request that arrived in PENDING_REQUEST and still awaits its one evaluation by the
    # seller's rules (aftersales/commands/triage.py), which clears it by a conditional update.
    rules_pending = fields.BooleanField(default=False, db_default=False)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "after_sale"
        unique_together = (("shop", "return_id"), ("shop", "parcel_key"))
        indexes = (
            # The filtered list's first page is a range scan that stops after a page; its total
            # and the per-status counts are index-only scans (docs/performance.md).
            Index(fields=("shop_id", "type", "status", "created_at", "id")),
            Index(fields=("shop_id", "created_at", "id")),
            Index(fields=("status", "dispute_deadline")),
            Index(fields=("order_id",)),
            Index(fields=("tracking_number",)),
            Index(fields=("return_id",)),
            Index(fields=("seller_response_deadline",)),
            Index(fields=("shop_id", "pre_return_id")),
            Index(fields=("shop_id", "next_return_id")),
            # The urgent queue (`orderBy: RESPONSE_DEADLINE`): per shop, soonest deadline first.
            Index(fields=("shop_id", "seller_response_deadline", "id")),
        )


# How many after-sales each shop has by type and status, for the status tabs
# (`afterSaleCounts`): maintained by triggers on `after_sale` in the writer's own transaction
# (migration 0004), as +1/-1 rows that never contend; `aftersales/store/counts.py` folds them
# into one row per key. The count of a key is the sum of its rows. `status` is '' for none.
class AfterSaleCount(Model):
    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="after_sale_counts", on_delete=fields.CASCADE
    )
    type = fields.CharField(max_length=24)
    status = fields.CharField(max_length=32)
    n = fields.BigIntField()

    class Meta:
        table = "after_sale_count"
        indexes = (Index(fields=("shop_id", "type", "status")),)


class AfterSaleItem(Model):
    id = fields.IntField(primary_key=True)
    after_sale: fields.ForeignKeyRelation[AfterSale] = fields.ForeignKeyField(
        "models.AfterSale", related_name="items", on_delete=fields.CASCADE
    )
    sku = fields.CharField(max_length=100)
    product_name = fields.CharField(max_length=300, null=True)
    quantity = fields.IntField()
    unit_refund = fields.DecimalField(**MONEY, null=True)

    class Meta:
        table = "after_sale_item"
        indexes = (Index(fields=("after_sale_id",)),)


class Note(Model):
    id = fields.IntField(primary_key=True)
    after_sale: fields.ForeignKeyRelation[AfterSale] = fields.ForeignKeyField(
        "models.AfterSale", related_name="notes", on_delete=fields.CASCADE
    )
    text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "note"
        indexes = (Index(fields=("after_sale_id",)),)


class HistoryEntry(Model):
    id = fields.BigIntField(primary_key=True)
    after_sale: fields.ForeignKeyRelation[AfterSale] = fields.ForeignKeyField(
        "models.AfterSale", related_name="history", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    actor = fields.CharEnumField(Actor, max_length=16)
    action = fields.CharField(max_length=48)
    from_status = fields.CharEnumField(AfterSaleStatus, max_length=32, null=True)
    to_status = fields.CharEnumField(AfterSaleStatus, max_length=32, null=True)
    source = fields.CharEnumField(EventSource, max_length=24)
    detail: Any = fields.JSONField(null=True)
    # TikTok's own time for an entry that came from TikTok (its report's update_time); `at` is
    # when the change was applied here. History reads in `id` order: entries are only written
    # under the after-sale's version check, so their ids follow the order changes were applied.
    platform_at = fields.DatetimeField(null=True)
    # Who, by name, when the actor alone does not say (a rule's name for source RULE).
    actor_name = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "history_entry"
        indexes = (Index(fields=("after_sale_id", "at")),)


# A seller's tag on an after-sale (aftersales/domain/tags.py): `tag` as first written, `key`
# its case-folded form, unique per after-sale; (key, after_sale_id) serves the `tags` filter.
class AfterSaleTag(Model):
    id = fields.BigIntField(primary_key=True)
    after_sale: fields.ForeignKeyRelation[AfterSale] = fields.ForeignKeyField(
        "models.AfterSale", related_name="tags", on_delete=fields.CASCADE
    )
    tag = fields.CharField(max_length=50)
    key = fields.CharField(max_length=50)

    class Meta:
        table = "after_sale_tag"
        unique_together = (("after_sale", "key"),)
        indexes = (Index(fields=("key", "after_sale_id")),)


# A seller's rule (aftersales/domain/triage.py): conditions and `shop_ids` as JSON (null: all).
class TriageRule(Model):
    id = fields.IntField(primary_key=True)
    seller: fields.ForeignKeyRelation[Seller] = fields.ForeignKeyField(
        "models.Seller", related_name="rules", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    position = fields.IntField()
    enabled = fields.BooleanField(default=True)
    shop_ids: Any = fields.JSONField(null=True)
    conditions: Any = fields.JSONField()
    accept = fields.BooleanField(default=False)
    tag = fields.CharField(max_length=50, null=True)
    note = fields.TextField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "triage_rule"
        indexes = (Index(fields=("seller_id", "position")),)


# Every delivery a platform made to us, kept whatever happened to it.
class WebhookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    source = fields.CharField(max_length=16)  # "tiktok" | "logistics"
    dedupe_key = fields.CharField(max_length=128)
    event_type = fields.CharField(max_length=32, null=True)
    shop_id = fields.CharField(max_length=64, null=True)
    received_at = fields.DatetimeField()
    headers: Any = fields.JSONField(null=True)
    body = fields.TextField()
    outcome = fields.CharField(max_length=24)
    reason = fields.TextField(null=True)
    after_sale_id = fields.IntField(null=True)
    processed_at = fields.DatetimeField(null=True)
    # What a logistics event is matched by, so that the events that matched nothing can be found,
    # without reading bodies, once their after-sale appears (docs/webhooks.md).
    match_return_id = fields.CharField(max_length=64, null=True)
    match_tracking_number = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("source", "dedupe_key"),)
        indexes = (
            Index(fields=("outcome", "shop_id")),
            Index(fields=("match_return_id",)),
            Index(fields=("match_tracking_number",)),
        )


class Warehouse(Model):
    id = fields.IntField(primary_key=True)
    seller: fields.ForeignKeyRelation[Seller] = fields.ForeignKeyField(
        "models.Seller", related_name="warehouses", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    address = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "warehouse"
        unique_together = (("seller", "code"),)


class InventoryLevel(Model):
    id = fields.IntField(primary_key=True)
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "models.Warehouse", related_name="levels", on_delete=fields.CASCADE
    )
    sku = fields.CharField(max_length=100)
    # 64-bit: a SKU's level grows with every stock-in, across all after-sales.
    sellable = fields.BigIntField(default=0)
    damaged = fields.BigIntField(default=0)

    class Meta:
        table = "inventory_level"
        unique_together = (("warehouse", "sku"),)


class StockMovement(Model):
    id = fields.BigIntField(primary_key=True)
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "models.Warehouse", related_name="movements", on_delete=fields.RESTRICT
    )
    after_sale: fields.ForeignKeyRelation[AfterSale] = fields.ForeignKeyField(
        "models.AfterSale", related_name="movements", on_delete=fields.RESTRICT
    )
    sku = fields.CharField(max_length=100)
    quantity = fields.BigIntField()
    condition = fields.CharEnumField(StockCondition, max_length=8)
    created_at = fields.DatetimeField()

    class Meta:
        table = "stock_movement"
        indexes = (Index(fields=("after_sale_id", "sku")),)


# The first result of a call made with an idempotency key, replayed on repeats.
class IdempotentResult(Model):
    id = fields.IntField(primary_key=True)
    seller: fields.ForeignKeyRelation[Seller] = fields.ForeignKeyField(
        "models.Seller", related_name="idempotent_results", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=200)
    operation = fields.CharField(max_length=48)
    after_sale_id = fields.IntField()
    result: Any = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "idempotent_result"
        unique_together = (("seller", "operation", "key"),)


# A call to TikTok's API waiting to be made, made, or given up: a seller decision to push, or a
# return to fetch. Written in the transaction of what caused it; the dispatcher
# (aftersales/tiktok/dispatch.py) sends each at least once, under a lease, with the same
# idempotency key every time.
class TikTokCall(Model):
    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="tiktok_calls", on_delete=fields.CASCADE
    )
    after_sale: fields.ForeignKeyNullableRelation[AfterSale] = fields.ForeignKeyField(
        "models.AfterSale", related_name="tiktok_calls", on_delete=fields.CASCADE, null=True
    )
    kind = fields.CharField(max_length=16)  # DECISION | FETCH
    return_id = fields.CharField(max_length=64)
    verb = fields.CharField(max_length=16, null=True)  # approve | reject (decisions)
    decision = fields.CharField(max_length=40, null=True)  # APPROVE_RETURN, ...
    body: Any = fields.JSONField(null=True)
    idempotency_key = fields.CharField(max_length=255, null=True, unique=True)
    status = fields.CharField(max_length=16)  # PENDING | SYNCED | FAILED | DONE
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)  # a dispatcher is making the call until then
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "tiktok_call"
        indexes = (
            Index(fields=("status", "next_attempt_at")),
            Index(fields=("after_sale_id", "id")),
            Index(fields=("shop_id", "return_id", "kind", "status")),
        )


# The last run of each scheduled job, for operators.
class JobRun(Model):
    name = fields.CharField(max_length=64, primary_key=True)
    last_started_at = fields.DatetimeField(null=True)
    last_finished_at = fields.DatetimeField(null=True)
    last_count = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    runs = fields.IntField(default=0)

    class Meta:
        table = "job_run"


# This installation's random id (one row, made on first use): the prefix of every idempotency
# key sent to TikTok, so two installs, or one after a database reset, never share a key.
class Install(Model):
    id = fields.IntField(primary_key=True)  # always 1
    install_id = fields.CharField(max_length=32)
    created_at = fields.DatetimeField()

    class Meta:
        table = "install"
