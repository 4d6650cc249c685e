"""The tests' one support package. Builders create data the way production does: through the
commands and the webhook inbox, never by writing ORM rows.

- `clock`: `T0`, a settable `Clock`.
- `builders`: sellers and their tokens, TikTok reports, after-sales in a given state, abnormal
  returns, parcels that arrived, warehouses and stock lines.
- `http`: `AppClient` (the ASGI app behind httpx) and GraphQL callers that may expect errors.
- `webhooks`: signed TikTok and logistics bodies, posted over HTTP.
- `stored`: everything the database holds about one after-sale, to compare before and after.
- `live`: a real `aftersales serve` process on a free port.
"""
