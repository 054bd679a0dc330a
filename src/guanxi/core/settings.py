"""Typed settings, read once from ``GUANXI_*`` environment variables.

Each field ``name`` is read from the upper-cased variable with the ``GUANXI_`` prefix.
Every field is documented in ``docs/configuration.md``; a test fails when one is not.
Connectors read their own settings (``guanxi.connectors.settings``): a value given here in
code under a connector's variable name (``weibo_app_key``) is kept for it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "GUANXI_"
MIN_SECRET_KEY_LENGTH = 32
SUPPORTED_LANGUAGES = ("en", "zh_Hans")


class Mode(StrEnum):
    """How the instance runs: production refuses unsafe defaults."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"
    DEMO = "demo"


class SentimentTier(StrEnum):
    """Which models read a text: the fast ones alone, or also the accurate tier's e5 heads
    (``guanxi.nlp.accurate``; for the inbox's sentiment, re-scoring items after ingest)."""

    FAST = "fast"
    ACCURATE = "accurate"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


# clickhouses: a ClickHouse server over HTTPS.
ANALYTICS_SCHEMES = ("clickhouse", "clickhouses", "chdb")


class Settings(BaseSettings):
    """All of guanxi's configuration, one field per environment variable."""

    # extra="allow": values for the connectors' settings given in code are kept for them (the
    # environment's are read by each connector's own model).
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="allow", frozen=True)

    mode: Mode = Field(Mode.DEVELOPMENT, description="production, development or demo.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    secret_key: SecretStr = Field(SecretStr(""), description="Signs sessions, encrypts secrets.")
    previous_secret_keys: SecretStr = Field(
        SecretStr(""), description="Older secret keys, comma-separated, still able to decrypt."
    )
    data_dir: Path = Field(Path("var"), description="Where the SQLite file and media live.")
    timezone: str = Field("Asia/Shanghai", description="Whose date `guanxi plan` ranks for.")
    default_language: str = Field("en", description="UI language before a user chooses one.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of this instance.")
    short_link_base: str = Field(
        "", description="The brand's short-link address for tracked links; empty: base_url/l."
    )
    smtp_host: str = Field("", description="SMTP server; empty disables e-mail.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_username: str = Field("", description="SMTP user name.")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_from: str = Field("guanxi@localhost", description="Sender address of e-mails.")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with TLS.")
    email_attachments_max_mb: int = Field(
        10, ge=1, le=100, description="Files one e-mail attaches (MB); larger ones are linked."
    )
    report_retention_days: int = Field(
        90, ge=1, le=3650, description="Days a scheduled report's files are kept."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins to one account from one client before waits."
    )
    login_account_max_failures: int = Field(
        10, ge=1, description="Failed sign-ins to one account before failing clients wait."
    )
    login_address_max_failures: int = Field(
        20, ge=1, description="Failed sign-ins from one client address before it waits."
    )
    login_lock_minutes: int = Field(
        15, ge=1, description="Longest wait; counts are forgotten after as long without failure."
    )
    trusted_proxies: str = Field(
        "", description="Proxy addresses/networks whose X-Forwarded-For is believed."
    )
    session_max_age_days: int = Field(14, ge=1, description="How long a sign-in lasts.")
    web_threads: int = Field(
        20,
        ge=1,
        le=200,
        description="Requests one web process works on at once (and its database connections).",
    )
    slow_request_ms: int = Field(
        0, ge=0, description="Log requests slower than this with their queries; 0: off."
    )
    queue_url: str = Field("", description="Task queue: empty = SQLite in data_dir; redis://...")
    analytics_url: str = Field(
        "",
        description="Analytics store: empty = the SQL database; clickhouse://... or chdb:///dir.",
    )
    import_max_mb: int = Field(
        1024, ge=1, le=1024, description="Largest listening file accepted (MB), at most 1024."
    )
    import_max_rows: int = Field(5_000_000, ge=1, description="Rows of one listening file.")
    import_lease_minutes: int = Field(
        10, ge=1, description="A running import silent this long was interrupted: resumed."
    )
    market_countries: str = Field("", description="Chart countries to snapshot daily, e.g. us,it.")
    market_charts: str = Field("top-free", description="Charts to snapshot: top-free,top-paid,...")
    market_chart_depth: int = Field(100, ge=1, le=200, description="Ranks kept per snapshot.")
    market_apple_rss_base: str = Field(
        "https://rss.applemarketingtools.com", description="Apple's RSS v2 feed base URL."
    )
    market_itunes_rss_base: str = Field(
        "https://itunes.apple.com", description="The legacy iTunes RSS feed base URL."
    )
    market_play_fetcher: str = Field("", description="module:factory of a Google Play fetcher.")
    outbound_allow_networks: str = Field(
        "", description="Non-public networks (CIDR, comma-separated) webhooks may reach."
    )
    sentiment_tier: SentimentTier = Field(
        SentimentTier.FAST,
        description="Inbox sentiment: fast (at ingest) or accurate (re-scored by the worker; "
        "needs guanxi[accurate]).",
    )
    sandbox_audience_pace_s: float = Field(
        900.0,
        description="Seconds between the sandbox audience's rounds (one item per account "
        "each); 0 or less: none.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = (
                f"{value!r} is not an IANA time zone. Use a name such as Asia/Shanghai, "
                "Asia/Hong_Kong or Europe/Paris."
            )
            raise ValueError(msg) from exc
        return value

    @field_validator("outbound_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                msg = f"{part!r} is not a network. Use CIDR such as 127.0.0.0/8 or ::1/128."
                raise ValueError(msg) from None
        return value

    @field_validator("sentiment_tier", mode="before")
    @classmethod
    def _known_tier(cls, value: object) -> object:
        accepted = [tier.value for tier in SentimentTier]
        if isinstance(value, str) and value.strip().lower() in accepted:
            return value.strip().lower()
        if isinstance(value, SentimentTier):
            return value
        msg = f"{value!r} is not a sentiment tier. Use one of: {', '.join(accepted)}."
        raise ValueError(msg)

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            msg = f"{value!r} is not a UI language. Use one of: {', '.join(SUPPORTED_LANGUAGES)}."
            raise ValueError(msg)
        return value

    @field_validator("analytics_url")
    @classmethod
    def _analytics_scheme(cls, value: str) -> str:
        scheme = value.partition("://")[0].lower() if "://" in value else value
        if value and scheme not in ANALYTICS_SCHEMES:
            msg = (
                f"{value!r} is not an analytics store address. Leave it empty for the SQL "
                "database, or use clickhouse://user:password@host:8123/database (a ClickHouse "
                "server) or chdb:///path/to/directory (embedded ClickHouse)."
            )
            raise ValueError(msg)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in value.split(","):
            try:
                if part.strip():
                    ipaddress.ip_network(part.strip(), strict=False)
            except ValueError as exc:
                msg = (
                    f"{part.strip()!r} is not an IP address or network. List the addresses of "
                    "your reverse proxies, comma-separated, e.g. 10.0.0.5,172.16.0.0/12."
                )
                raise ValueError(msg) from exc
        return value

    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks of ``trusted_proxies``, parsed."""
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return [ipaddress.ip_network(part, strict=False) for part in parts if part]

    @model_validator(mode="after")
    def _secret_key_in_production(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.mode is Mode.PRODUCTION and len(key) < MIN_SECRET_KEY_LENGTH:
            msg = (
                f"GUANXI_SECRET_KEY is missing or shorter than {MIN_SECRET_KEY_LENGTH} "
                "characters. In production set it to a long random value, for example the "
                "output of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
                "and keep it: it signs sessions and encrypts platform tokens."
            )
            raise ConfigurationError(msg)
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'guanxi.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The secret key; outside production a missing one is generated and kept on disk."""
        key = self.secret_key.get_secret_value()
        if key:
            return key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            kept = key_file.read_text(encoding="utf-8").strip()
            if len(kept) >= MIN_SECRET_KEY_LENGTH:
                return kept
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Written aside then linked: the file appears whole, and only once when several web
        # processes start together; a process that loses the race uses the winner's key.
        draft = self.data_dir / f"secret_key.{secrets.token_hex(8)}"
        draft.write_text(key, encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, key_file)
        except FileExistsError:
            kept = key_file.read_text(encoding="utf-8").strip()
            if len(kept) >= MIN_SECRET_KEY_LENGTH:
                key = kept
            else:  # a key too short to keep is replaced, as when there is none
                draft.replace(key_file)
        finally:
            draft.unlink(missing_ok=True)
        return key

    def all_secret_keys(self) -> list[str]:
        """The secret key followed by the previous ones, newest first (for key rotation)."""
        previous = self.previous_secret_keys.get_secret_value().split(",")
        return [self.resolved_secret_key(), *(key.strip() for key in previous if key.strip())]


def describe_validation_error(error: ValidationError) -> str:
    """One line per wrong setting, naming its environment variable and what to do."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{ENV_PREFIX}{field.upper()}: {message}" if field else message)
    return "Invalid configuration:\n" + "\n".join(lines)


def load_settings() -> Settings:
    """Settings from the environment; any wrong value raises ``ConfigurationError``."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()
