"""The webhook delivery log end to end: parse, record, apply, replay.

- `payloads` (with `jsonfields`): raw bytes -> typed reports and parcel events, or `Malformed`.
- `receive`: a delivery as it arrives, logged and applied in one unit of work.
- `log`: the one claim-apply-record path, for live, replayed and late deliveries.
- `apply`: what a parsed delivery does (the command it runs, the events it lets match).
- `late`: parcel events that arrived before their after-sale, applied when it appears.
- `replay`: deliveries kept for a shop not registered yet, or failed.
- `rematch`: the timer job that catches parcel events a race left unmatched.
"""
