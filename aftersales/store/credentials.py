"""TikTok API credentials of shops, encrypted at rest: the only code that reads or writes the
token columns of `shop` (docs/tiktok-sync.md#credentials).

Both tokens are stored as Fernet tokens (AES-128-CBC and HMAC-SHA256) under the key of
AFTERSALES_SECRET_KEY. That variable may list several keys, comma-separated: the first encrypts,
every one decrypts, so a key is rotated by putting the new one first and keeping the old one
after it until every stored token has been written again (a refresh or `shops credentials`
does). An entry is either a Fernet key (32 bytes in URL-safe base64) or any string of 32
characters or more, from which a Fernet key is derived with HKDF-SHA256 (no salt, info
`aftersales shop credentials v1`). Plain tokens leave this module only inside
`ShopCredentials`, whose repr leaves them out; no message here ever contains one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tortoise.expressions import Q

from aftersales.store.connections import reconnected
from aftersales.store.models import Shop
from aftersales.store.sql import Connection

KEY_VARIABLE = "AFTERSALES_SECRET_KEY"
MIN_KEY_CHARS = 32
HKDF_INFO = b"aftersales shop credentials v1"


class CredentialsError(Exception):
    """A key is unusable or stored credentials cannot be decrypted; the message says why and
    never contains a key or a token."""


def _is_fernet_key(entry: str) -> bool:
    if len(entry) != 44:
        return False
    try:
        return len(base64.urlsafe_b64decode(entry.encode("ascii"))) == 32
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


def fernet_key(entry: str) -> bytes:
    """The Fernet key of one AFTERSALES_SECRET_KEY entry: itself when it is a Fernet key, else
    derived from it (at least 32 characters) with HKDF-SHA256."""
    entry = entry.strip()
    if _is_fernet_key(entry):
        return entry.encode("ascii")
    if len(entry) < MIN_KEY_CHARS:
        raise CredentialsError(
            f"a key of {KEY_VARIABLE} is {len(entry)} characters long; give a Fernet key or a"
            f" random string of {MIN_KEY_CHARS} characters or more"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        entry.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


class Vault:
    """Encrypts with the first key, decrypts with any (MultiFernet)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str) or not keys:
            raise CredentialsError(f"{KEY_VARIABLE} has no key: give a list of keys")
        self._fernet = MultiFernet([Fernet(fernet_key(key)) for key in keys])

    @classmethod
    def from_settings_keys(cls, raw: str | Sequence[str] | None) -> Vault | None:
        """A vault from `Settings.secret_keys` (or the raw comma-separated variable); None when
        there is no key."""
        if raw is None:
            return None
        keys = [k.strip() for k in raw.split(",")] if isinstance(raw, str) else list(raw)
        keys = [k for k in keys if k]
        return cls(keys) if keys else None

    def __repr__(self) -> str:
        return "Vault(...)"

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise CredentialsError(
                f"stored TikTok credentials cannot be decrypted with the keys of {KEY_VARIABLE}:"
                " it changed since they were stored (list the old key after the new one,"
                " comma-separated, or set the credentials again)"
            ) from None


@dataclass(frozen=True)
class ShopCredentials:
    """What a call to TikTok for this shop needs. The tokens are left out of the repr."""

    shop_pk: int
    shop_id: str
    region: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    shop_cipher: str | None
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    locale: str | None = None  # the shop's `--locale`; None: its region's (domain/locales.py)

    def __repr__(self) -> str:
        return (
            f"ShopCredentials(shop_pk={self.shop_pk}, shop_id={self.shop_id!r},"
            f" region={self.region!r}, access_token=<hidden>,"
            f" refresh_token={'<hidden>' if self.refresh_token else None},"
            f" shop_cipher={self.shop_cipher!r},"
            f" access_token_expires_at={self.access_token_expires_at!r},"
            f" refresh_token_expires_at={self.refresh_token_expires_at!r})"
        )


@dataclass(frozen=True)
class Unreadable:
    """A shop whose stored credentials cannot be decrypted: its own failure, not its
    neighbours' (the jobs go on with the other shops and record `reason` on this one)."""

    shop_pk: int
    shop_id: str
    reason: str


def _each(vault: Vault, rows: list[Shop]) -> list[ShopCredentials | Unreadable]:
    found: list[ShopCredentials | Unreadable] = []
    for row in rows:
        try:
            found.append(_credentials(vault, row))
        except CredentialsError as exc:
            found.append(Unreadable(row.id, row.shop_id, str(exc)))
    return found


def _credentials(vault: Vault, row: Shop) -> ShopCredentials:
    assert row.access_token is not None
    try:
        access = vault.decrypt(row.access_token)
        refresh = vault.decrypt(row.refresh_token) if row.refresh_token else None
    except CredentialsError as exc:
        raise CredentialsError(f"shop {row.shop_id}: {exc}") from None
    return ShopCredentials(
        shop_pk=row.id,
        shop_id=row.shop_id,
        region=row.region,
        access_token=access,
        refresh_token=refresh,
        shop_cipher=row.shop_cipher,
        access_token_expires_at=row.access_token_expires_at,
        refresh_token_expires_at=row.refresh_token_expires_at,
        locale=row.locale,
    )


def _token(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"the {what} is empty")
    return value.strip()


@dataclass(frozen=True)
class CredentialStatus:
    """Which credentials a shop has, for operators: never the values."""

    shop_pk: int
    shop_id: str
    access_token: bool
    refresh_token: bool
    shop_cipher: bool
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    updated_at: datetime | None


def _status(row: Shop) -> CredentialStatus:
    return CredentialStatus(
        shop_pk=row.id,
        shop_id=row.shop_id,
        access_token=row.access_token is not None,
        refresh_token=row.refresh_token is not None,
        shop_cipher=row.shop_cipher is not None,
        access_token_expires_at=row.access_token_expires_at,
        refresh_token_expires_at=row.refresh_token_expires_at,
        updated_at=row.credentials_updated_at,
    )


class CredentialReads:
    """Shop credentials on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def for_shop(self, vault: Vault, shop_pk: int) -> ShopCredentials | None:
        """The shop's credentials, decrypted; None when it does not sync: no access token, no
        shop cipher, disconnected (aftersales/domain/connection.py), or no such shop."""
        row = await Shop.filter(_SYNCS, id=shop_pk).using_db(self._conn).first()
        return _credentials(vault, row) if row is not None else None

    async def stored_for(self, vault: Vault, shop_id: str) -> ShopCredentials | None:
        """The shop's credentials whether it syncs or not (`shops check`); None: no token."""
        row = (
            await Shop.filter(shop_id=shop_id, access_token__isnull=False)
            .using_db(self._conn)
            .first()
        )
        return _credentials(vault, row) if row is not None else None

    async def syncing_shops(self, vault: Vault) -> list[ShopCredentials | Unreadable]:
        """Every shop that syncs (an access token and a shop cipher, not disconnected), by id;
        `Unreadable` for one that cannot be decrypted."""
        rows = await Shop.filter(_SYNCS).using_db(self._conn).order_by("id")
        return _each(vault, rows)

    async def any_with_credentials(self) -> bool:
        """Whether any shop has an access token (production then needs AFTERSALES_SECRET_KEY)."""
        return bool(await Shop.filter(access_token__isnull=False).using_db(self._conn).exists())

    async def status_of(self, shop_id: str) -> CredentialStatus | None:
        """Which credentials the shop has (nothing decrypted); None: no shop with this shop_id."""
        row = await Shop.filter(shop_id=shop_id).using_db(self._conn).first()
        return _status(row) if row is not None else None

    async def statuses(self) -> dict[int, CredentialStatus]:
        """Which credentials every shop has, by shop id (primary key); nothing decrypted."""
        return {
            row.id: _status(row) for row in await Shop.all().using_db(self._conn).order_by("id")
        }

    async def due_for_refresh(
        self, vault: Vault, *, before: datetime
    ) -> list[ShopCredentials | Unreadable]:
        """The shops with a refresh token whose access token expires before `before`, or whose
        expiry is unknown (set by hand without one: a refresh learns it), soonest first."""
        rows = await Shop.filter(
            Q(access_token_expires_at__isnull=True) | Q(access_token_expires_at__lt=before),
            _SYNCS,
            refresh_token__isnull=False,
        ).using_db(self._conn)
        # Unknown expiries first; sorted here, as the databases place NULL differently.
        rows.sort(key=lambda row: (row.access_token_expires_at is not None, _at(row), row.id))
        return _each(vault, rows)


class Credentials(CredentialReads):
    """Shop credentials in a unit of work: the reads, and the writes."""

    async def set_credentials(
        self,
        vault: Vault | None,
        shop_id: str,
        *,
        access_token: str | None,
        refresh_token: str | None,
        shop_cipher: str | None,
        access_token_expires_at: datetime | None = None,
        refresh_token_expires_at: datetime | None = None,
        now: datetime,
    ) -> bool:
        """Set or replace what is given; None keeps the stored value. A new token given without
        its expiry has an unknown one (the stored expiry was the old token's); an expiry alone
        updates the stored token's. `vault` may be None when no token is given (a shop cipher is
        not a secret). False: no shop with this shop_id."""
        if vault is None and (access_token is not None or refresh_token is not None):
            raise CredentialsError(f"{KEY_VARIABLE} is needed to store tokens")
        changes: dict[str, object] = {"credentials_updated_at": now}
        if access_token is not None and vault is not None:
            changes["access_token"] = vault.encrypt(_token(access_token, "access token"))
            changes["access_token_expires_at"] = access_token_expires_at
        elif access_token_expires_at is not None:
            changes["access_token_expires_at"] = access_token_expires_at
        if refresh_token is not None and vault is not None:
            changes["refresh_token"] = vault.encrypt(_token(refresh_token, "refresh token"))
            changes["refresh_token_expires_at"] = refresh_token_expires_at
        elif refresh_token_expires_at is not None:
            changes["refresh_token_expires_at"] = refresh_token_expires_at
        if shop_cipher is not None:
            changes["shop_cipher"] = _token(shop_cipher, "shop cipher")
        updated = await Shop.filter(shop_id=shop_id).using_db(self._conn).update(**changes)
        if updated and access_token is not None:  # a new authorization: connected again
            await reconnected(self._conn, Q(shop_id=shop_id), now=now)
        return bool(updated)

    async def clear_credentials(self, shop_id: str) -> bool:
        """Forget the shop's tokens, their expiries and its shop cipher: it is local-only from now
        on. False: no shop with this shop_id."""
        updated = (
            await Shop.filter(shop_id=shop_id)
            .using_db(self._conn)
            .update(
                access_token=None,
                refresh_token=None,
                shop_cipher=None,
                access_token_expires_at=None,
                refresh_token_expires_at=None,
                credentials_updated_at=None,
                disconnected_at=None,
                announced_expiration_at=None,
            )
        )
        return bool(updated)

    async def store_grant(
        self,
        vault: Vault,
        shop_pk: int,
        *,
        access_token: str,
        access_token_expires_at: datetime,
        refresh_token: str,
        refresh_token_expires_at: datetime,
        now: datetime,
    ) -> None:
        """Keep what a token refresh returned (both tokens, encrypted with the first key): the
        shop is connected (again, if it was disconnected)."""
        await (
            Shop.filter(id=shop_pk)
            .using_db(self._conn)
            .update(
                access_token=vault.encrypt(_token(access_token, "access token")),
                access_token_expires_at=access_token_expires_at,
                refresh_token=vault.encrypt(_token(refresh_token, "refresh token")),
                refresh_token_expires_at=refresh_token_expires_at,
                credentials_updated_at=now,
            )
        )
        await reconnected(
            self._conn, Q(id=shop_pk), now=now, authorized_until=refresh_token_expires_at
        )


# A shop syncs with an access token and a shop cipher (TikTok refuses every shop call without
# one: 106013), unless TikTok revoked its authorization (aftersales/domain/connection.py).
_SYNCS = Q(access_token__isnull=False, shop_cipher__isnull=False, disconnected_at__isnull=True)


def _at(row: Shop) -> datetime:
    return row.access_token_expires_at or datetime.min.replace(tzinfo=UTC)
