"""Sign-in throttling across clients: a guesser is slowed down, the owner is never locked out.

Counts are kept per client address, per account and per both (guanxi/accounts/throttle.py);
the client address is the socket's peer, or X-Forwarded-For from a trusted proxy only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import throttle
from guanxi.accounts.models import AuditEvent, SignInThrottle, User
from guanxi.accounts.throttle import LoginThrottledError, ThrottlePolicy
from guanxi.core.db import utcnow
from guanxi.core.settings import ConfigurationError, Settings, load_settings
from guanxi.shell.app import create_app
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory
from tests.test_accounts import (
    WRONG,
    is_signed_in,
    try_sign_in,
)

OWNER_HOME = "198.51.100.10"
ATTACKER = "203.0.113.66"
PROXY = "10.0.0.5"


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """Claire, owner of workspace acme."""
    user = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=user)
    return user


@contextmanager
def from_address(app: FastAPI, address: str, **headers: str) -> Iterator[TestClient]:
    """A browser whose connection comes from ``address``."""
    with TestClient(
        app, base_url="http://testserver", client=(address, 50000), headers=headers
    ) as browser:
        yield browser


def test_five_bad_passwords_from_one_address_do_not_stop_the_owner_elsewhere(
    app: FastAPI, acme: User
) -> None:
    """Given someone failed five times to sign in as Claire from address A (A now waits),
    when Claire signs in with her password from address B, then she is in."""
    with from_address(app, ATTACKER) as attacker:
        for _ in range(5):
            assert try_sign_in(attacker, acme.email, WRONG).status_code == 401
        assert try_sign_in(attacker, acme.email, PASSWORD).status_code == 429

    with from_address(app, OWNER_HOME) as claire:
        assert try_sign_in(claire, acme.email, PASSWORD).status_code == 303
        assert is_signed_in(claire)


def test_an_attack_from_many_addresses_holds_back_the_failing_ones_not_the_owner(
    app: FastAPI, acme: User
) -> None:
    """Given 10 failures (GUANXI_LOGIN_ACCOUNT_MAX_FAILURES) on Claire's account from ten
    addresses, then those addresses wait before trying it again, and Claire, from an
    address that has not been failing, still signs in."""
    attackers = [f"203.0.113.{n}" for n in range(1, 11)]
    for address in attackers:
        with from_address(app, address) as attacker:
            assert try_sign_in(attacker, acme.email, WRONG).status_code == 401

    with from_address(app, attackers[0]) as attacker:
        again = try_sign_in(attacker, acme.email, PASSWORD)
    with from_address(app, OWNER_HOME) as claire:
        owner = try_sign_in(claire, acme.email, PASSWORD)

    assert again.status_code == 429
    assert "Too many failed sign-ins. Wait 30 seconds, then try again." in again.text
    assert owner.status_code == 303


def test_a_flood_from_one_address_is_refused_with_when_to_retry(
    app: FastAPI, make_user: UserFactory, acme: User
) -> None:
    """Given 20 failures (GUANXI_LOGIN_ADDRESS_MAX_FAILURES) from one address on 20
    accounts (none reaching its own limit), then that address waits before any sign-in,
    told how long, while other addresses are not held back."""
    make_user("li@acme.example")
    with from_address(app, ATTACKER) as attacker:
        for n in range(20):
            assert try_sign_in(attacker, f"user{n}@acme.example", WRONG).status_code == 401

        refused = try_sign_in(attacker, "li@acme.example", PASSWORD)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert (
        "Too many failed sign-ins from your network. Wait 30 seconds, then try again."
        in refused.text
    )
    with from_address(app, OWNER_HOME) as li:
        assert try_sign_in(li, "li@acme.example", PASSWORD).status_code == 303


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(app: FastAPI, acme: User) -> None:
    """A client cannot escape its count by claiming another address."""
    with from_address(app, ATTACKER) as attacker:
        for n in range(5):
            headers = {"x-forwarded-for": f"198.51.100.{n}"}
            attacker.headers.update(headers)
            assert try_sign_in(attacker, acme.email, WRONG).status_code == 401
        attacker.headers["x-forwarded-for"] = OWNER_HOME

        assert try_sign_in(attacker, acme.email, PASSWORD).status_code == 429


@pytest.fixture
def behind_proxy(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> FastAPI:
    """An instance whose reverse proxy at 10.0.0.5 is trusted (GUANXI_TRUSTED_PROXIES)."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-key-that-is-long-enough-0123456789",  # type: ignore[arg-type]
        trusted_proxies="10.0.0.0/24,2001:db8::1",
    )
    return create_app(settings, session_factory)


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    behind_proxy: FastAPI, db: Session, acme: User
) -> None:
    """Given failures forwarded for one client, then that client waits and another client
    of the same proxy signs in; the audit log names the clients, not the proxy."""
    with from_address(behind_proxy, PROXY, **{"x-forwarded-for": ATTACKER}) as attacker:
        for _ in range(5):
            assert try_sign_in(attacker, acme.email, WRONG).status_code == 401
        assert try_sign_in(attacker, acme.email, PASSWORD).status_code == 429
    with from_address(behind_proxy, PROXY, **{"x-forwarded-for": OWNER_HOME}) as claire:
        assert try_sign_in(claire, acme.email, PASSWORD).status_code == 303

    sign_ins = select(AuditEvent).where(AuditEvent.action.startswith("user.sign_in"))
    addresses = {event.ip for event in db.scalars(sign_ins)}
    assert addresses == {ATTACKER, OWNER_HOME}


@pytest.mark.parametrize(
    ("forwarded", "counted_as"),
    [
        (f"{ATTACKER}", ATTACKER),
        # A client's own X-Forwarded-For comes first; the trusted proxies append after it.
        (f"6.6.6.6, {ATTACKER}, 10.0.0.7", ATTACKER),
        (f"{ATTACKER}, not-an-address", PROXY),
        ("", PROXY),
    ],
)
def test_the_address_counted_is_the_nearest_one_no_trusted_proxy_vouches_for(
    behind_proxy: FastAPI, db: Session, acme: User, forwarded: str, counted_as: str
) -> None:
    with from_address(behind_proxy, PROXY, **{"x-forwarded-for": forwarded}) as browser:
        try_sign_in(browser, acme.email, WRONG)

    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.sign_in_failed")).one()
    assert event.ip == counted_as


def test_a_wrong_trusted_proxy_setting_says_what_to_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GUANXI_TRUSTED_PROXIES", "10.0.0.5,proxy.internal")

    with pytest.raises(ConfigurationError) as error:
        load_settings()

    assert "GUANXI_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network." in str(
        error.value
    )


def test_failures_arriving_at_once_from_several_processes_are_all_counted(
    session_factory: sessionmaker[Session],
) -> None:
    """Eight web processes recording a failure at the same moment: the count is eight, so a
    guesser gains nothing by sending attempts in parallel."""
    policy = ThrottlePolicy(
        account_address_free=5, account_free=10, address_free=20, longest_wait=timedelta(minutes=15)
    )
    start = threading.Barrier(8)

    def fail_once() -> None:
        with session_factory() as db:
            start.wait()
            throttle.record_failure(
                db, policy=policy, email="claire@acme.example", ip=ATTACKER, now=utcnow()
            )
            db.commit()

    threads = [threading.Thread(target=fail_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with session_factory() as db:
        counts = {row.scope: row.failures for row in db.scalars(select(SignInThrottle))}
        assert counts == {"address": 8, "account": 8, "account_address": 8}
        with pytest.raises(LoginThrottledError):
            throttle.check_allowed(db, email="claire@acme.example", ip=ATTACKER, now=utcnow())
