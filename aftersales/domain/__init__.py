"""The rules of after-sales, pure: no I/O, no clock, no Tortoise.

- `model`: enums, the views the rules read (`Sale`, `Parcel`), `LineItem`, `Change`.
- `errors`: the expected failures, each mapped to one API error code.
- `rules`: the seller-action table (docs/lifecycle.md), `check`, `decide`, `available_actions`.
- `tiktok`: what TikTok's return reports mean for an after-sale.
- `parcels`: what the logistics feed's parcel events mean.
- `stock`: what a stock-in may move.
- `outcome`: what became of a report, an event or a delivery.
"""
