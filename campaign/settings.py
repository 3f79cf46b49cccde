"""The one place that reads the environment.

Every setting has an embedded default that works on a laptop with no servers:
SQLite under ``var/``, a Celery broker kept in a SQLite file, mail written as
``.eml`` files. Production points ``DATABASE_URL`` at PostgreSQL and
``CELERY_BROKER_URL`` at Redis.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

Role = Literal["admin", "staff", "coordinator", "volunteer"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="Where the embedded database, broker, secret key and outbox live.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite at var/cosign.sqlite3.")
    celery_broker_url: str = Field(default="", description="Celery broker; empty means the embedded SQLite broker at var/broker.sqlite3.")
    celery_queue: str = Field(default="cosign", description="Name of the Celery queue (tests use one per run).")
    secret_key: SecretStr | None = Field(default=None, description="Signs sessions and links; generated into var/secret_key when empty.")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public address used in links sent by mail.")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_email: str = "admin@example.org"
    admin_password: SecretStr | None = Field(default=None, description="Password for the first admin; printed once when generated.")
    session_max_age_seconds: int = 14 * 24 * 3600
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60
    max_upload_bytes: int = 20 * 1024 * 1024
    legislator_data_dir: Path | None = Field(default=None, description="Where the first-run page finds public legislator datasets.")
    web_concurrency: int = Field(default=1, ge=1, description="uvicorn worker processes started by campaign web.")
    worker_concurrency: int = 2
    mail_backend: Literal["file", "smtp"] = "file"
    mail_from: str = "Cosign <cosign@localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    send_max_attempts: int = Field(default=10, ge=1, description="Tries before a message is marked failed.")
    send_retry_base_seconds: float = Field(default=10.0, gt=0)
    send_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    send_per_domain_per_minute: int = Field(default=600, ge=0, description="0: no limit.")
    send_per_campaign_per_minute: int = Field(default=0, ge=0, description="0: no limit.")
    send_dispatch_limit: int = Field(default=1000, ge=1, description="Rows one dispatch run claims at most.")
    send_batch_size: int = Field(default=50, ge=1, description="Messages one deliver task sends.")
    send_lease_seconds: float = Field(default=0, ge=0, description="0: three SMTP timeouts (at least 5 s).")
    log_level: str = "INFO"

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the URLs people paste from their hosting provider.
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url[len("postgres://"):]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        return f"sqlite:///{self.var_dir / 'cosign.sqlite3'}"

    @property
    def broker_url(self) -> str:
        return self.celery_broker_url or f"sqla+sqlite:///{self.var_dir / 'broker.sqlite3'}"

    @property
    def uses_embedded_broker(self) -> bool:
        return not self.celery_broker_url

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def signing_key(self) -> str:
        """The secret key, generated and kept under var/ the first time none is given."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        key_file = self.var_dir / "secret_key"
        if not key_file.exists():
            # Written aside then linked into place, so processes starting together
            # (web, worker, beat) all end up reading the same complete key.
            self.var_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=self.var_dir, prefix=".secret_key.")
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp_name, key_file)
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp_name)
        return key_file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings
