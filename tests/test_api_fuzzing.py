"""The whole JSON API, fuzzed from its own OpenAPI document, never fails and never lies.

Schemathesis generates requests for every operation of ``/api/v1/openapi.json`` (valid ones,
and invalid ones that break the schema on purpose) and sends them to the app in process,
as an owner and as an analyst, each with an API token. Every answer must be a non-5xx whose
status and body are the ones the document declares. Examples are few per operation and
derandomized, so the run is short and the same in CI every time.

The pages get the same treatment with a signed-in owner's session (their document is built
here from the app's routes, since the published one describes the API only): no 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, User
from tests.composer_support import Team, make_team, test_connectors  # noqa: F401 - fixture
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

EXAMPLES_PER_MODE = 6  # per API operation, role and mode: ~450 requests
PAGE_EXAMPLES_PER_MODE = 2  # per page route and mode: ~400 requests
# On SQLite, half as many: it refuses fewer values than PostgreSQL (text with NUL, integers
# past a column's range), so the database's own failures show on PostgreSQL, which gets the
# full count. Every operation and page still gets valid and invalid requests on SQLite too.
SQLITE_SHARE = 2
# Pages that end the fuzzing session itself.
SESSION_ENDING = {
    "/logout",
    "/w/{slug}/settings/sign-out-everywhere",
    "/w/{slug}/settings/password",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzReport:
    """What a run covered and what went wrong (one line per operation and kind of failure)."""

    operations: set[str] = field(default_factory=set)
    requests: int = 0
    server_errors: int = 0
    failures: set[str] = field(default_factory=set)


def examples_on(db: Session, examples: int) -> int:
    """The examples per operation and mode on this test's database (fewer on SQLite)."""
    if db.get_bind().dialect.name == "sqlite":
        return max(1, examples // SQLITE_SHARE)
    return examples


def token_headers(db: Session, team: Team, user: User) -> dict[str, str]:
    membership = next(m for m in team.workspace.memberships if m.user_id == user.id)
    assert isinstance(membership, Membership)
    _token, plain = accounts.create_api_token(db, membership=membership, name="fuzz")
    db.commit()
    return {"authorization": f"Bearer {plain}"}


def fuzz(
    schema: OpenApiSchema,
    report: FuzzReport,
    *,
    headers: dict[str, str],
    examples: int,
    checks: list[CheckFunction],
    cookies: dict[str, str] | None = None,
) -> None:
    """Send ``examples`` valid and as many invalid requests to every operation."""
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        report.operations.add(label)
        pinned = {"slug": "acme"} if "{slug}" in operation.path else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned)

            where = f"{label} [{mode.value}]"
            try:
                run(
                    strategy,
                    examples,
                    lambda case, where=where: check(
                        case, report, where, headers=headers, cookies=cookies, checks=checks
                    ),
                )
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break: no input at all


def run(
    strategy: SearchStrategy[schemathesis.Case],
    examples: int,
    send: Callable[[schemathesis.Case], None],
) -> None:
    """Draw ``examples`` cases from ``strategy``, the same ones on every run, and send each."""

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def each(case: schemathesis.Case) -> None:
        send(case)

    each()


def check(
    case: schemathesis.Case,
    report: FuzzReport,
    where: str,
    *,
    headers: dict[str, str],
    cookies: dict[str, str] | None,
    checks: list[CheckFunction],
) -> None:
    """Send one generated request and record whether its answer is the documented one."""
    report.requests += 1
    try:
        response = case.call(headers=headers, cookies=cookies)
    except Exception as crash:
        report.server_errors += 1
        report.failures.add(f"{where}: {crash!r}"[:300])
        return
    if response.status_code >= 500:
        report.server_errors += 1
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except Exception as failure:
        summary = str(failure).strip().splitlines()[:3]
        report.failures.add(f"{where}: {' | '.join(summary)}")


@pytest.fixture
def team(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Team:
    return make_team(db, make_user, make_workspace)


@pytest.mark.postgres_only
@pytest.mark.usefixtures("test_connectors")
def test_the_api_answers_every_fuzzed_request_as_documented(
    app: FastAPI, db: Session, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a workspace with two accounts and a post,
    when every operation gets valid and invalid requests from an owner and an analyst,
    then no answer is a 5xx and every status and body is the documented one."""
    owner = token_headers(db, team, team.owner)
    analyst = token_headers(db, team, team.analyst)
    with TestClient(app) as client:
        created = client.post(
            "/api/v1/w/acme/publish/posts",
            headers=owner,
            json={"title": "春季上新", "body": "春季新品上市。", "channel_ids": [team.micro.id]},
        )
        assert created.status_code == 201, created.text
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    report = FuzzReport()

    examples = examples_on(db, EXAMPLES_PER_MODE)
    for headers in (owner, analyst):
        fuzz(schema, report, headers=headers, examples=examples, checks=CHECKS)

    with capsys.disabled():
        print(  # noqa: T201 - the figures CI shows
            f"\nAPI fuzzing: {len(report.operations)} operations, {report.requests} requests, "
            f"{report.server_errors} 5xx, {len(report.failures)} failures"
        )
    assert len(report.operations) >= 20
    assert sorted(report.failures) == []
    assert report.server_errors == 0


@pytest.mark.postgres_only
def test_the_pages_never_fail_on_fuzzed_requests_from_a_signed_in_owner(
    app: FastAPI, client: TestClient, db: Session, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given the owner of acme signed in (session cookie and CSRF token),
    when every page route of acme gets valid and invalid paths, queries and forms,
    then no answer is a 5xx."""
    sign_in(client, team.owner.email)
    session = {"X-CSRF-Token": csrf_token(client)}
    document = get_openapi(title="pages", version="fuzz", routes=app.routes)
    document["paths"] = {
        path: item
        for path, item in document["paths"].items()
        if not path.startswith("/api/") and path not in SESSION_ENDING
    }
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    report = FuzzReport()

    fuzz(
        schema,
        report,
        headers=session,
        cookies=dict(client.cookies),
        examples=examples_on(db, PAGE_EXAMPLES_PER_MODE),
        checks=[not_a_server_error],
    )

    with capsys.disabled():
        print(  # noqa: T201 - the figures CI shows
            f"\nPage fuzzing: {len(report.operations)} operations, {report.requests} requests, "
            f"{report.server_errors} 5xx"
        )
    assert len(report.operations) >= 100
    assert sorted(report.failures) == []
