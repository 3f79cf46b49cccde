from __future__ import annotations

import os

from campaign.db import UTCDateTime
from campaign.settings import Settings


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings(var_dir=tmp_path)
    first = settings.signing_key()
    assert len(first) >= 40
    assert Settings(var_dir=tmp_path).signing_key() == first
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"


def test_given_secret_key_wins(tmp_path):
    assert Settings(var_dir=tmp_path, secret_key="from-the-environment").signing_key() == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_embedded_defaults_need_no_server(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    settings = Settings(var_dir=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'cosign.sqlite3'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.mail_backend == "file" and settings.outbox_dir == tmp_path / "outbox"


def test_hosting_style_postgres_urls_use_psycopg3(tmp_path):
    settings = Settings(var_dir=tmp_path, database_url="postgres://u:p@db:5432/cosign")
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db:5432/cosign"


def test_naive_datetimes_are_refused_by_the_column_type():
    from datetime import datetime

    import pytest

    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), dialect=type("D", (), {"name": "sqlite"})())
