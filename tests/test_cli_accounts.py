"""The accounts side of the command line: schema, users, workspaces, members, the demo."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from guanxi import __version__
from guanxi.accounts.models import AuditEvent, Membership, Role, User, Workspace
from guanxi.channels.models import Channel
from guanxi.convert.models import Order
from guanxi.convert.scene_models import CodeEvent, SceneCode
from guanxi.core.security import verify_password
from guanxi.devtools.demo.convert import DEMO_CODES
from guanxi.devtools.demo.workspace import DEMO_PEOPLE
from tests.cli import run, said, upgraded

GOOD_PASSWORD = "a long enough password"


@pytest.fixture
def database(cli_database: Engine) -> Engine:
    """The commands' environment points at an empty SQLite file."""
    return cli_database


@pytest.fixture
def migrated(database: Engine) -> Engine:
    return upgraded(database)  # `db upgrade` itself: test_db_upgrade_creates_the_schema…


@pytest.fixture
def claire(migrated: Engine) -> Engine:
    result = run(
        "user",
        "create",
        "--email",
        "claire@provence.example",
        "--name",
        "Claire",
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    return migrated


def count(engine: Engine, model: type[object]) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_version() -> None:
    result = run("--version")

    assert result.exit_code == 0
    assert result.output.strip() == f"guanxi {__version__}"


def test_db_upgrade_creates_the_schema_and_is_repeatable(database: Engine) -> None:
    first = run("db", "upgrade")
    second = run("db", "upgrade")

    assert first.exit_code == 0
    assert second.exit_code == 0
    assert "database at revision head" in said(first)
    tables = set(inspect(database).get_table_names())
    assert {"users", "workspaces", "memberships", "api_tokens", "audit_events"} <= tables


def test_user_create_asks_for_the_password_twice_without_showing_it(migrated: Engine) -> None:
    """The password is typed at a hidden prompt, twice, never given as an argument."""
    result = run(
        "user",
        "create",
        "--email",
        " Claire@Provence.example ",
        "--name",
        "Claire Martin",
        stdin=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password (at least 10 characters):" in result.output
    assert "Repeat for confirmation:" in result.output
    assert GOOD_PASSWORD not in result.output
    assert "created user claire@provence.example" in said(result)
    with Session(migrated) as session:
        user = session.scalars(select(User)).one()
        assert user.email == "claire@provence.example"
        assert user.name == "Claire Martin"
        assert verify_password(user.password_hash, GOOD_PASSWORD)
        event = session.scalars(select(AuditEvent)).one()
        assert (event.action, event.actor_label) == ("user.create", "cli")


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-address", "Claire", GOOD_PASSWORD, "not-an-address is not a valid e-mail"),
        ("claire@", "Claire", GOOD_PASSWORD, "Enter one such as name@example.com"),
        ("claire@provence.example", "Claire", "short", "A password needs 10 to 200 characters"),
        ("claire@provence.example", "  ", GOOD_PASSWORD, "Enter a name of 1 to 120 characters"),
    ],
)
def test_user_create_refuses_bad_input_clearly(
    migrated: Engine, email: str, name: str, password: str, message: str
) -> None:
    """Bad input: exit status 1, a message saying what to fix, no traceback, no user."""
    result = run(
        "user", "create", "--email", email, "--name", name, "--password-stdin", stdin=password
    )

    assert result.exit_code == 1
    assert message in said(result)
    assert "Traceback" not in result.output
    assert count(migrated, User) == 0


def test_user_create_refuses_a_taken_address(claire: Engine) -> None:
    result = run(
        "user",
        "create",
        "--email",
        "CLAIRE@provence.example",
        "--name",
        "Other",
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )

    assert result.exit_code == 1
    assert "A user with the e-mail address claire@provence.example already exists" in said(result)
    assert count(claire, User) == 1


def test_user_create_reads_the_password_from_standard_input_for_scripts(
    migrated: Engine,
) -> None:
    """`printf '%s\\n' "$PW" | guanxi user create ... --password-stdin`: one line, its
    spaces kept."""
    result = run(
        "user",
        "create",
        "--email",
        "li@provence.example",
        "--name",
        "Li",
        "--password-stdin",
        stdin=" spaces count too \nsecond line ignored\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    with Session(migrated) as session:
        user = session.scalars(select(User)).one()
        assert verify_password(user.password_hash, " spaces count too ")


def test_user_create_refuses_two_different_passwords_at_the_prompt(migrated: Engine) -> None:
    result = run(
        "user",
        "create",
        "--email",
        "li@provence.example",
        "--name",
        "Li",
        stdin=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}!\n{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output
    with Session(migrated) as session:
        assert verify_password(session.scalars(select(User)).one().password_hash, GOOD_PASSWORD)


def test_the_password_is_never_an_option(migrated: Engine) -> None:
    """A password on the command line is seen by other users (ps) and kept in shell history."""
    result = run(
        "user",
        "create",
        "--email",
        "li@provence.example",
        "--name",
        "Li",
        "--password",
        GOOD_PASSWORD,
    )

    assert result.exit_code == 2
    assert "No such option: --password" in said(result)
    assert count(migrated, User) == 0


def test_workspace_create_makes_the_user_its_owner(claire: Engine) -> None:
    result = run(
        "workspace",
        "create",
        "--slug",
        "provence-wines",
        "--name",
        "Vins de Provence",
        "--owner",
        "claire@provence.example",
        "--timezone",
        "Europe/Paris",
    )

    assert result.exit_code == 0
    assert "created workspace provence-wines" in said(result)
    with Session(claire) as session:
        workspace = session.scalars(select(Workspace)).one()
        assert (workspace.name, workspace.timezone) == ("Vins de Provence", "Europe/Paris")
        membership = session.scalars(select(Membership)).one()
        assert membership.role == Role.OWNER
        assert membership.user.email == "claire@provence.example"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--slug", "A B"], "A B cannot be a workspace address"),
        (["--slug", "x"], "Use 3 to 60 lower-case letters, digits and hyphens"),
        (["--timezone", "Mars/Olympus"], "Mars/Olympus is not a time zone"),
        (["--owner", "nobody@provence.example"], "no user nobody@provence.example"),
    ],
)
def test_workspace_create_refuses_bad_input_clearly(
    claire: Engine, options: list[str], message: str
) -> None:
    defaults = {"--slug": "provence-wines", "--name": "Vins", "--owner": "claire@provence.example"}
    defaults |= dict(zip(options[::2], options[1::2], strict=True))
    result = run("workspace", "create", *[part for pair in defaults.items() for part in pair])

    assert result.exit_code == 1
    assert message in said(result)
    assert count(claire, Workspace) == 0


def test_workspace_create_refuses_a_taken_slug(claire: Engine) -> None:
    args = ["--slug", "provence-wines", "--name", "V", "--owner", "claire@provence.example"]
    assert run("workspace", "create", *args).exit_code == 0

    result = run("workspace", "create", *args)

    assert result.exit_code == 1
    assert "The workspace address provence-wines is taken" in said(result)


def test_workspace_add_member_gives_and_changes_a_role(claire: Engine) -> None:
    run(
        "workspace",
        "create",
        "--slug",
        "provence-wines",
        "--name",
        "V",
        "--owner",
        "claire@provence.example",
    )
    run(
        "user",
        "create",
        "--email",
        "li@provence.example",
        "--name",
        "Li Na",
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )

    added = run(
        "workspace",
        "add-member",
        "--slug",
        "provence-wines",
        "--email",
        "li@provence.example",
        "--role",
        "editor",
    )
    changed = run(
        "workspace",
        "add-member",
        "--slug",
        "provence-wines",
        "--email",
        "li@provence.example",
        "--role",
        "analyst",
    )

    assert added.exit_code == 0
    assert "li@provence.example is editor of provence-wines" in said(added)
    assert changed.exit_code == 0
    with Session(claire) as session:
        li = session.scalars(select(User).where(User.email == "li@provence.example")).one()
        assert li.memberships[0].role == Role.ANALYST


@pytest.mark.parametrize(
    ("options", "status", "message"),
    [
        (["--email", "nobody@provence.example"], 1, "no user nobody@provence.example"),
        (["--slug", "lyon-silk"], 1, "no workspace lyon-silk"),
        (["--role", "boss"], 2, "'boss' is not one of"),
    ],
)
def test_workspace_add_member_refuses_bad_input(
    claire: Engine, options: list[str], status: int, message: str
) -> None:
    run(
        "workspace",
        "create",
        "--slug",
        "provence-wines",
        "--name",
        "V",
        "--owner",
        "claire@provence.example",
    )
    values = {"--slug": "provence-wines", "--email": "claire@provence.example", "--role": "editor"}
    values |= dict(zip(options[::2], options[1::2], strict=True))

    result = run("workspace", "add-member", *[part for pair in values.items() for part in pair])

    assert result.exit_code == status
    assert message in said(result)
    with Session(claire) as session:
        assert session.scalars(select(Membership)).one().role == Role.OWNER


def test_the_last_owner_cannot_be_demoted_from_the_command_line(claire: Engine) -> None:
    run(
        "workspace",
        "create",
        "--slug",
        "provence-wines",
        "--name",
        "V",
        "--owner",
        "claire@provence.example",
    )

    result = run(
        "workspace",
        "add-member",
        "--slug",
        "provence-wines",
        "--email",
        "claire@provence.example",
        "--role",
        "analyst",
    )

    assert result.exit_code == 1
    assert "A workspace needs at least one owner" in said(result)


def test_demo_loads_people_and_workspaces_and_is_idempotent(migrated: Engine) -> None:
    """Running ``guanxi demo`` twice leaves exactly what running it once does, the WeChat
    scene codes (made once the account is connected) and their scans and orders included."""
    first = run("demo")
    models = (User, Workspace, Membership, AuditEvent, Channel, SceneCode, CodeEvent, Order)
    counts = [count(migrated, model) for model in models]
    second = run("demo")

    assert first.exit_code == 0
    assert second.exit_code == 0
    assert [count(migrated, m) for m in models] == counts
    assert counts[0] == len(DEMO_PEOPLE)
    assert min(counts) > 0
    assert counts[models.index(SceneCode)] == len(DEMO_CODES)
    for person in DEMO_PEOPLE:
        assert person.email in said(second)
