"""Settings: every variable documented, clear errors for wrong values, and a production
instance that refuses to start without a secret key.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from typer.testing import CliRunner

from guanxi.cli import app as cli
from guanxi.connectors.registry import connector_settings_models
from guanxi.connectors.settings import connector_settings, settings_prefix
from guanxi.connectors.weibo import WeiboConnector, WeiboSettings
from guanxi.core.settings import (
    ConfigurationError,
    Mode,
    Settings,
    get_settings,
    load_settings,
)
from guanxi.shell.app import create_app

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"
PREFIX = "GUANXI" + "_"
# A variable name as it appears in code, scripts or docs.
NAME_RE = re.compile(r"GUANXI_[A-Z0-9_]*[A-Z0-9]")
SECTION_RE = re.compile(
    r"^### `(GUANXI_[A-Z0-9_]+)`\n(.*?)(?=^#{2,3} |\Z)", re.MULTILINE | re.DOTALL
)
KEY = "production-secret-key-that-is-long-enough-0123456789"
MISSING_KEY = "GUANXI_SECRET_KEY is missing or shorter than 32 characters"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No guanxi variable from the outside, a fresh working directory, no cached settings."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def squeeze(text: str) -> str:
    """Text with every run of whitespace made one space (Rich wraps long lines)."""
    return " ".join(text.split())


# --- Documentation ---------------------------------------------------------------------------


def documented() -> dict[str, str]:
    """Each variable documented in docs/configuration.md, with the text of its entry."""
    return dict(SECTION_RE.findall(DOC.read_text(encoding="utf-8")))


def names_used_in_the_project() -> set[str]:
    """Every ``GUANXI_*`` name written anywhere in src/, tests/, the Makefile and .ci/."""
    paths = [ROOT / "Makefile"]
    for folder in ("src", "tests", ".ci"):
        paths += [p for p in (ROOT / folder).rglob("*") if p.is_file()]
    names: set[str] = set()
    for path in paths:
        if "__pycache__" in path.parts:
            continue
        names |= set(NAME_RE.findall(path.read_bytes().decode("utf-8", errors="ignore")))
    return names


def env_name(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


def every_setting() -> dict[str, FieldInfo]:
    """Each variable guanxi reads, with its field: Settings' and every installed connector's
    own settings model's."""
    fields = {env_name(name): field for name, field in Settings.model_fields.items()}
    for model in connector_settings_models().values():
        prefix = settings_prefix(model)
        fields |= {f"{prefix}{name.upper()}": field for name, field in model.model_fields.items()}
    return fields


def test_every_setting_is_documented() -> None:
    """Each field of Settings, and of every connector's settings, has an entry in
    docs/configuration.md."""
    assert {"GUANXI_WEIBO_APP_KEY", "GUANXI_DOUYIN_CLIENT_SECRET"} <= every_setting().keys()
    missing = [name for name in every_setting() if name not in documented()]

    assert missing == [], f"document these in docs/configuration.md: {missing}"


def test_every_variable_named_in_the_project_is_documented() -> None:
    """Any GUANXI_* name in src/, tests/, the Makefile or .ci/ has an entry in the doc,
    including the ones only the tests read."""
    names = names_used_in_the_project()

    assert {"GUANXI_TEST_DATABASE_URL", "GUANXI_REQUIRE_BROWSER"} <= names
    assert sorted(names - documented().keys()) == []


def test_the_doc_lists_no_variable_that_nothing_reads() -> None:
    """A documented name is a setting or is used somewhere: the doc does not go stale."""
    known = every_setting().keys() | names_used_in_the_project()

    assert sorted(documented().keys() - known) == []


@pytest.mark.parametrize("name", sorted(documented()))
def test_each_entry_gives_type_default_and_an_example(name: str) -> None:
    entry = documented()[name]

    assert "- **Type:** " in entry
    assert "- **Default:** " in entry
    assert f"- **Example:** `{name}=" in entry
    meaning = [line for line in entry.splitlines() if line and not line.startswith("- **")]
    assert meaning, f"{name} needs a sentence saying what it means"


@pytest.mark.parametrize("name", sorted(every_setting()))
def test_each_documented_default_is_the_real_default(name: str) -> None:
    default = every_setting()[name].default
    if isinstance(default, SecretStr):
        default = default.get_secret_value()
    text = str(default).lower() if isinstance(default, bool) else str(default)
    line = next(line for line in documented()[name].splitlines() if "**Default:**" in line)

    if text == "":
        assert line.startswith("- **Default:** empty")
    else:
        assert f"`{text}`" in line


# --- Values and their errors -------------------------------------------------------------------


def test_defaults_suit_a_developer(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings()

    assert settings.mode is Mode.DEVELOPMENT
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_language == "en"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'var' / 'guanxi.db'}"
    assert settings.login_max_failures == 5
    assert settings.login_lock_minutes == 15


def test_variables_are_read_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("GUANXI_TIMEZONE", "Asia/Hong_Kong")
    clean_env.setenv("GUANXI_DEFAULT_LANGUAGE", "zh_Hans")
    clean_env.setenv("GUANXI_LOGIN_MAX_FAILURES", "3")
    clean_env.setenv("GUANXI_SMTP_STARTTLS", "false")

    settings = get_settings()

    assert settings.timezone == "Asia/Hong_Kong"
    assert settings.default_language == "zh_Hans"
    assert settings.login_max_failures == 3
    assert settings.smtp_starttls is False


def test_a_connector_reads_its_own_variables(clean_env: pytest.MonkeyPatch) -> None:
    """Given the Weibo variables in the environment, then the Weibo connector is configured from
    them, and a value given to Settings in code under the variable's name wins."""
    clean_env.setenv("GUANXI_WEIBO_APP_KEY", "key-from-env")
    clean_env.setenv("GUANXI_WEIBO_SAFE_DOMAIN", "brand.example")
    settings = get_settings()

    assert connector_settings(WeiboSettings, settings).app_key == "key-from-env"
    given = settings.model_copy(update={"weibo_app_key": "key-in-code"})
    assert connector_settings(WeiboSettings, given).app_key == "key-in-code"
    with httpx.Client() as http:
        assert WeiboConnector.from_settings(settings, http).safe_domain == "brand.example"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "GUANXI_TIMEZONE",
            "Mars/Olympus",
            (
                "GUANXI_TIMEZONE: 'Mars/Olympus' is not an IANA time zone. "
                "Use a name such as Asia/Shanghai"
            ),
        ),
        (
            "GUANXI_DEFAULT_LANGUAGE",
            "fr",
            "GUANXI_DEFAULT_LANGUAGE: 'fr' is not a UI language. Use one of: en, zh_Hans.",
        ),
        ("GUANXI_MODE", "staging", "GUANXI_MODE: Input should be 'production'"),
        ("GUANXI_SMTP_PORT", "smtp", "GUANXI_SMTP_PORT: Input should be a valid integer"),
        ("GUANXI_LOGIN_MAX_FAILURES", "0", "GUANXI_LOGIN_MAX_FAILURES: Input should be greater"),
    ],
)
def test_a_wrong_value_is_a_clear_configuration_error(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    """Given a wrong value, then loading says which variable is wrong and what to use."""
    clean_env.setenv(variable, value)

    with pytest.raises(ConfigurationError) as caught:
        get_settings()

    assert str(caught.value).startswith("Invalid configuration:")
    assert message in str(caught.value)


def test_every_wrong_value_is_listed_at_once(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("GUANXI_TIMEZONE", "Nowhere")
    clean_env.setenv("GUANXI_DEFAULT_LANGUAGE", "de")

    with pytest.raises(ConfigurationError) as caught:
        load_settings()

    assert "GUANXI_TIMEZONE" in str(caught.value)
    assert "GUANXI_DEFAULT_LANGUAGE" in str(caught.value)


def test_a_wrong_time_zone_given_in_code_says_what_to_use(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match=r"is not an IANA time zone\. Use a name such as"):
        Settings(timezone="Asia/Atlantis")


def test_secrets_do_not_show_in_the_settings_repr(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(secret_key=KEY, smtp_password="hunter2-smtp")  # type: ignore[arg-type]

    assert KEY not in repr(settings)
    assert "hunter2-smtp" not in repr(settings)


# --- The secret key ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "too-short-0123456789"])
def test_production_without_a_long_secret_key_is_an_error(
    clean_env: pytest.MonkeyPatch, key: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings(mode=Mode.PRODUCTION, secret_key=key)  # type: ignore[arg-type]

    message = str(caught.value)
    assert message.startswith(MISSING_KEY)
    assert "secrets.token_urlsafe(48)" in message  # says how to make one


def test_production_accepts_a_long_secret_key_and_writes_no_key_file(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(mode=Mode.PRODUCTION, secret_key=KEY, data_dir=tmp_path / "d")  # type: ignore[arg-type]

    assert settings.resolved_secret_key() == KEY
    assert not (tmp_path / "d" / "secret_key").exists()


def test_create_app_refuses_to_start_in_production_without_a_key(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """Given GUANXI_MODE=production and no GUANXI_SECRET_KEY, the app does not start."""
    clean_env.setenv("GUANXI_MODE", "production")

    with pytest.raises(ConfigurationError, match=MISSING_KEY):
        create_app()


def test_development_generates_a_key_once_and_keeps_it(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without a key outside production, one is generated, kept private, and reused."""
    first = Settings(data_dir=tmp_path / "data").resolved_secret_key()
    again = Settings(data_dir=tmp_path / "data").resolved_secret_key()

    key_file = tmp_path / "data" / "secret_key"
    assert len(first) >= 32
    assert again == first
    assert key_file.read_text(encoding="utf-8") == first
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_damaged_kept_key_is_replaced(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("short", encoding="utf-8")

    key = Settings(mode=Mode.DEMO, data_dir=tmp_path).resolved_secret_key()

    assert len(key) >= 32
    assert (tmp_path / "secret_key").read_text(encoding="utf-8") == key


# --- The command line --------------------------------------------------------------------------


def test_serve_in_production_without_a_key_exits_with_the_message(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """`guanxi serve` prints the configuration error, not a traceback, and exits 1."""
    clean_env.setenv("GUANXI_MODE", "production")

    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert MISSING_KEY in squeeze(result.output)
    assert "Traceback" not in result.output


def test_a_wrong_setting_stops_every_command_with_the_message(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("GUANXI_TIMEZONE", "Mars/Olympus")

    result = CliRunner().invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 1
    assert "GUANXI_TIMEZONE: 'Mars/Olympus' is not an IANA time zone" in squeeze(result.output)


def test_the_version_needs_no_valid_settings(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("GUANXI_MODE", "production")

    result = CliRunner().invoke(cli, ["--version"])

    assert result.exit_code == 0
    assert result.output.startswith("guanxi ")


def test_serve_as_a_real_process_fails_cleanly(tmp_path: Path) -> None:
    """The installed command, run for real, exits non-zero with the message on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env |= {"GUANXI_MODE": "production", "GUANXI_DATA_DIR": str(tmp_path), "COLUMNS": "200"}

    done = subprocess.run(
        [sys.executable, "-m", "guanxi", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert MISSING_KEY in squeeze(done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
