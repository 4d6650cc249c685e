"""Tags: a seller's own labels on after-sales (SPEC §13), pure rules.

A tag is trimmed and 1 to 50 characters; tags are compared case-insensitively (by `key`, the
case-folded form), and the first spelling written is the one kept; an after-sale holds at
most `MAX_TAGS`. A tag change is not a status change: it adds no history entry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aftersales.domain.errors import Invalid

MAX_LENGTH = 50
MAX_TAGS = 20


def key(tag: str) -> str:
    """What tags are compared by: the trimmed tag, case-folded."""
    return tag.strip().casefold()


def clean(tags: Iterable[str], *, field: str = "tags") -> list[tuple[str, str]]:
    """The distinct tags as `(key, tag)` pairs, trimmed, in the order first given;
    `Invalid` when one is empty or longer than `MAX_LENGTH`, or when there are none."""
    found: dict[str, str] = {}
    for n, raw in enumerate(tags):
        tag = raw.strip()
        if not 1 <= len(tag) <= MAX_LENGTH:
            raise Invalid(
                f"a tag must be 1 to {MAX_LENGTH} characters once trimmed", field=f"{field}.{n}"
            )
        folded = key(tag)
        # Case folding can lengthen text ("ß" -> "ss"): the key must fit its column too.
        if len(folded) > MAX_LENGTH:
            raise Invalid(f"a tag must be 1 to {MAX_LENGTH} characters", field=f"{field}.{n}")
        found.setdefault(folded, tag)
    if not found:
        raise Invalid("give at least one tag", field=field)
    return list(found.items())


def check_room(held: Sequence[str], adding: Sequence[str]) -> None:
    """`Invalid` when adding these keys to the ones held would pass `MAX_TAGS`."""
    total = len(set(held) | set(adding))
    if total > MAX_TAGS:
        raise Invalid(
            f"an after-sale holds at most {MAX_TAGS} tags; this would make {total}", field="tags"
        )
