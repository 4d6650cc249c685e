"""Development secrets: generated once into a private file beside the database, reused, never
touched in production."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from aftersales.settings import SECRET_NAMES, ConfigError, load_settings


def _development(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite://{tmp_path / 'db' / 'a.sqlite3'}", **env}


def test_missing_secrets_are_generated_once_into_a_private_file_beside_the_database(
    tmp_path: Path,
) -> None:
    (tmp_path / "db").mkdir()

    first, made = load_settings(_development(tmp_path)).with_local_secrets()
    again, reread = load_settings(_development(tmp_path)).with_local_secrets()

    assert made.path == tmp_path / "db" / "aftersales.secrets"
    assert made.generated == list(SECRET_NAMES)
    assert reread.generated == []
    assert first.missing_secrets() == [] and again == first
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600


def test_the_environment_wins_over_the_file_and_only_the_missing_ones_are_kept(
    tmp_path: Path,
) -> None:
    (tmp_path / "db").mkdir()
    settings = load_settings(_development(tmp_path, TIKTOK_APP_KEY="from-env"))

    filled, made = settings.with_local_secrets()

    assert filled.tiktok_app_key == "from-env"
    assert made.generated == ["TIKTOK_APP_SECRET", "LOGISTICS_WEBHOOK_SECRET"]
    assert "from-env" not in made.path.read_text()


def test_a_file_with_wide_permissions_is_made_private_when_it_is_completed(
    tmp_path: Path,
) -> None:
    (tmp_path / "db").mkdir()
    path = tmp_path / "db" / "aftersales.secrets"
    path.write_text("TIKTOK_APP_KEY=kept\n")
    path.chmod(0o644)

    filled, made = load_settings(_development(tmp_path)).with_local_secrets()

    assert filled.tiktok_app_key == "kept"
    assert made.generated == ["TIKTOK_APP_SECRET", "LOGISTICS_WEBHOOK_SECRET"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_production_never_reads_or_writes_the_file(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    path = tmp_path / "db" / "aftersales.secrets"
    path.write_text("\n".join(f"{name}=from-file" for name in SECRET_NAMES))
    settings = load_settings(_development(tmp_path, AFTERSALES_ENV="production"))

    with pytest.raises(ConfigError, match="TIKTOK_APP_KEY"):
        settings.with_local_secrets()
    assert settings.missing_secrets() == list(SECRET_NAMES)


def test_a_database_elsewhere_keeps_the_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DATABASE_URL": "postgres://u@127.0.0.1:1/x"})

    assert settings.secrets_file() == tmp_path / "aftersales.secrets"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"AFTERSALES_ENV": "production"}, False),
        ({"AFTERSALES_ENV": "production", "GRAPHIQL": "on"}, True),
        ({"GRAPHIQL": "off"}, False),
    ],
)
def test_the_playground_is_on_in_development_and_off_in_production_unless_told(
    env: dict[str, str], expected: bool
) -> None:
    assert load_settings(env).graphiql is expected


def test_a_bad_playground_switch_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="GRAPHIQL must be 'on' or 'off'"):
        load_settings({"GRAPHIQL": "maybe"})
