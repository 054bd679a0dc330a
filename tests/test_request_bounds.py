"""Every input is bounded: body size, JSON depth, integer ids, field lengths, query nesting.

The route walks read the routes from the application itself, so a route added later is
covered the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership
from guanxi.core.bounds import DB_INT_MAX
from guanxi.listening.intake import flows
from guanxi.listening.topics.queries import MAX_NESTING, QuerySyntaxError, parse_query
from guanxi.publishing.models import Post
from guanxi.web.limits import DEFAULT_MAX_BODY_BYTES, MAX_JSON_DEPTH, BodySizeLimit, json_depth
from tests.input_bounds_support import unbounded_inputs
from tests.test_isolation import PARAM_RE, http_routes, request

BEYOND = str(DB_INT_MAX + 1)  # 2**31: PostgreSQL cannot even compare it with an id
HUGE = str(2**63)  # 9223372036854775808: past what SQLite can store, as in the report
INT_PARAM = re.compile(r"\{(\w+)\}")


def integer_parameters(route: Any) -> tuple[set[str], set[str]]:
    """The names of the route's integer path and query parameters."""
    path: set[str] = set()
    query: set[str] = set()
    stack = [route.dependant]
    while stack:
        current = stack.pop()
        for field in current.path_params:
            if int in (
                field.field_info.annotation,
                *getattr(field.field_info.annotation, "__args__", ()),
            ):
                path.add(field.alias)
        for field in current.query_params:
            if int in (
                field.field_info.annotation,
                *getattr(field.field_info.annotation, "__args__", ()),
            ):
                query.add(field.alias)
        stack.extend(current.dependencies)
    return path, query


def routes_with_integers(app: FastAPI) -> Iterator[tuple[Any, str]]:
    """Each route taking an integer, with its path where every integer is ``BEYOND``."""
    for route in http_routes(app):
        if getattr(route, "dependant", None) is None:
            continue
        path_ints, query_ints = integer_parameters(route)
        if not path_ints and not query_ints:
            continue

        def value(match: re.Match[str], ints: set[str] = path_ints) -> str:
            name = match.group(1)
            return BEYOND if name in ints else ("acme" if name == "slug" else "x")

        path = PARAM_RE.sub(value, route.path)
        if query_ints:
            path += "?" + "&".join(f"{name}={BEYOND}" for name in sorted(query_ints))
        yield route, path


@pytest.fixture
def owner(
    signed_in: tuple[TestClient, Membership], db: Session
) -> tuple[TestClient, dict[str, str], dict[str, str]]:
    """The owner of acme: a signed-in browser, its CSRF header and an API token header."""
    client, membership = signed_in
    _token, plain = accounts.create_api_token(db, membership=membership, name="bounds")
    db.commit()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return client, {"X-CSRF-Token": csrf.group(1)}, {"authorization": f"Bearer {plain}"}


# --- Integers beyond the database's range ---------------------------------------------------


def test_every_route_answers_404_for_an_id_beyond_the_integer_range(
    app: FastAPI, owner: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    """Given the owner of acme, signed in and with a token,
    when every method of every route taking an integer gets 2**31 in each of them,
    then every answer is a 404 (the database is never asked)."""
    client, page_headers, api_headers = owner
    probes = list(routes_with_integers(app))
    assert len(probes) >= 60
    problems = []
    for route, path in probes:
        headers = api_headers if path.startswith("/api/") else page_headers
        for method in sorted(route.methods or ()):
            response = request(client, method, path, headers)
            if response.status_code != 404:
                problems.append(f"{method} {path}: {response.status_code}")
    assert problems == []


def test_the_answer_says_nothing_has_that_number(
    client: TestClient, owner: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    _client, _page, api_headers = owner
    anonymous = client.get(f"/hooks/wechat/{HUGE}?signature=a&timestamp=1&nonce=2&echostr=3")
    api = client.get(f"/api/v1/w/acme/publish/posts/{HUGE}", headers=api_headers)
    page = client.get(f"/api/v1/w/acme/listen/posts?page={HUGE}", headers=api_headers)

    assert anonymous.status_code == 404
    assert api.status_code == 404
    assert api.json() == {"detail": f"Nothing has the number {HUGE}. Check the address."}
    assert page.status_code == 404


def test_an_id_beyond_the_range_in_a_json_body_is_refused_field_by_field(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, _page, api_headers = owner
    response = client.post(
        "/api/v1/w/acme/publish/posts",
        headers=api_headers,
        json={"title": "t", "body": "b", "channel_ids": [int(HUGE)]},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "channel_ids.0"


def test_a_missing_object_is_a_404_on_every_route_even_with_an_invalid_form(
    app: FastAPI, owner: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    """Ids that fit the range but exist nowhere, and a form that is not valid: never a 5xx
    (a missing campaign with an invalid form used to fail after its rollback)."""
    client, page_headers, api_headers = owner
    problems = []
    for route, beyond in routes_with_integers(app):
        path = beyond.replace(BEYOND, "999999")
        headers = api_headers if path.startswith("/api/") else page_headers
        for method in sorted(route.methods or ()):
            response = request(client, method, path, headers)
            if response.status_code >= 500:
                problems.append(f"{method} {path}: {response.status_code}")
    assert problems == []
    campaign = client.post(
        "/w/acme/campaigns/999999", data={"name": ""}, headers=page_headers, follow_redirects=False
    )
    assert campaign.status_code == 404
    assert "No such campaign in this workspace." in campaign.text


# --- Body size --------------------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_refused_with_413_and_nothing_is_stored(
    db: Session, owner: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    client, _page, api_headers = owner
    huge = {"title": "big", "body": "文" * DEFAULT_MAX_BODY_BYTES, "channel_ids": [1]}

    response = client.post("/api/v1/w/acme/publish/posts", headers=api_headers, json=huge)

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is larger than 1 MB, the most this address accepts. "
        "Send less at once (a shorter text, a smaller or split file)."
    }
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Post)) == 0


def test_a_streamed_body_without_a_length_is_counted_as_it_arrives(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, page_headers, _api = owner

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b"term=" + b"x" * (DEFAULT_MAX_BODY_BYTES // 2)

    response = client.post(
        "/w/acme/checks/words",
        content=chunks(),
        headers={**page_headers, "content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert "larger than 1 MB" in response.text


def test_a_form_over_the_limit_gets_the_error_page_in_the_users_language(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, page_headers, _api = owner
    response = client.post(
        "/w/acme/checks/words",
        data={"term": "词" * DEFAULT_MAX_BODY_BYTES},
        headers={**page_headers, "accept-language": "zh-CN"},
    )

    assert response.status_code == 413
    assert "<!doctype html>" in response.text.lower()
    assert "1 MB" in response.text


def test_uploads_that_stream_to_disk_keep_their_own_larger_limits(app: FastAPI) -> None:
    limits = BodySizeLimit(app)

    def limit(path: str) -> int:
        return limits.limit_for({"app": app, "method": "POST", "path": path})

    assert limit("/w/acme/checks/words") == DEFAULT_MAX_BODY_BYTES
    assert limit("/api/v1/w/acme/publish/posts") == DEFAULT_MAX_BODY_BYTES
    assert limit("/w/acme/media") == 1024 * 1024 * 1024
    assert limit("/w/acme/listen/import") == flows.MAX_UPLOAD_BYTES == 1025 * 1024 * 1024
    assert limit("/w/acme/market/import") > 20_000_000
    assert limit("/w/acme/checks/words/import") > 2_000_000


def test_a_media_upload_larger_than_the_default_limit_still_arrives(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    """2 MB is past the default limit, not past the media library's: the file reaches the
    library, which explains that it is not an image."""
    client, page_headers, _api = owner
    response = client.post(
        "/w/acme/media",
        files={"files": ("photo.png", b"\0" * (2 * DEFAULT_MAX_BODY_BYTES), "image/png")},
        headers=page_headers,
    )

    assert response.status_code == 400
    assert "larger than" not in response.text


# --- JSON depth ------------------------------------------------------------------------------


def test_json_nested_too_deep_is_refused_before_it_is_parsed(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, _page, api_headers = owner
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)

    response = client.post(
        "/api/v1/w/acme/plan/plans",
        headers={**api_headers, "content-type": "application/json"},
        content=deep,
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The JSON body nests deeper than 32 levels. Send a flatter document."
    }


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "]]]"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0


# --- Topic queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["(" * 300 + "a" + ")" * 300, "NOT " * 400 + "a"])
def test_a_topic_query_nested_too_deep_says_where(query: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)

    assert caught.value.column == (
        MAX_NESTING + 1 if query.startswith("(") else 4 * MAX_NESTING + 1
    )
    assert f"nest at most {MAX_NESTING} deep" in str(caught.value)


def test_a_topic_query_nested_to_the_limit_still_parses() -> None:
    parse_query("(" * MAX_NESTING + "a" + ")" * MAX_NESTING)


def test_an_analyst_validating_a_deeply_nested_query_is_told_not_failed(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, page_headers, _api = owner
    response = client.post(
        "/w/acme/listen/topics-validate",
        data={"query": "(" * 300 + "a" + ")" * 300},
        headers=page_headers,
    )

    assert response.status_code == 200
    assert f"nest at most {MAX_NESTING} deep" in response.text


# --- Field lengths and the API's description ---------------------------------------------------


def test_every_field_of_every_route_has_a_maximum(app: FastAPI) -> None:
    """Strings and lists in bodies, forms and query strings all declare a maximum length;
    ids in bodies declare the database's range (path and query integers are checked
    app-wide, see above)."""
    assert unbounded_inputs(app) == []


def test_an_over_long_field_is_refused_with_the_field_named(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, page_headers, _api = owner
    response = client.post("/w/acme/checks/words", data={"term": "x" * 5000}, headers=page_headers)

    assert response.status_code == 422
    assert "term" in response.text


def test_the_openapi_declares_the_errors_the_api_really_sends(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    create = spec["paths"]["/api/v1/w/{slug}/publish/posts"]["post"]

    assert {"400", "401", "403", "404", "413", "422"} <= set(create["responses"])
    invalid = create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert invalid.endswith("/ValidationErrorRead")
    assert set(spec["components"]["schemas"]["ValidationErrorRead"]["properties"]) == {
        "detail",
        "errors",
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert all(path.startswith("/api/") for path in spec["paths"])


def test_a_word_list_with_a_line_of_megabytes_reports_that_line_and_keeps_the_rest(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    """A 1.5 MB line used to stop the CSV reader (a 500); now it is a bad row."""
    client, page_headers, _api = owner
    content = "敏感词\n".encode() + b"x" * 1_500_000 + "\n违禁词\n".encode()

    response = client.post(
        "/w/acme/checks/words/import",
        files={"file": ("words.txt", content, "text/plain")},
        headers=page_headers,
    )

    assert response.status_code == 200
    assert "The line is longer than 1000 characters: one term per line." in response.text
    assert "x" * 1000 not in response.text
    words = client.get("/w/acme/checks/words/export").text
    assert "敏感词" in words
    assert "违禁词" in words


def test_json_sent_to_an_upload_address_is_held_to_the_default_limit(
    owner: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    """JSON is read into memory to be measured: an upload route's larger limit is for files
    that stream to disk, never for JSON."""
    client, page_headers, _api = owner
    response = client.post(
        "/w/acme/media",
        content=b"[" + b"1," * DEFAULT_MAX_BODY_BYTES + b"1]",
        headers={**page_headers, "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert "larger than 1 MB" in response.text


@pytest.mark.parametrize("value", ["³", "١٢٣", "+" + BEYOND, "-" + BEYOND + "0", "1" * 5000])
def test_odd_numbers_in_an_id_are_never_a_server_error(
    owner: tuple[TestClient, dict[str, str], dict[str, str]], value: str
) -> None:
    """Characters Python calls digits ("³"), other scripts' digits, signs, 5,000 digits."""
    client, _page, api_headers = owner
    response = client.get(f"/api/v1/w/acme/publish/posts/{value}", headers=api_headers)

    assert response.status_code in {404, 422}


@pytest.mark.parametrize(
    "value", [f"{BEYOND}.0", "30_000_000_000", f" +{BEYOND} ", "2_147_483_648"]
)
def test_numbers_written_as_the_parser_reads_them_are_held_to_the_range_too(
    owner: tuple[TestClient, dict[str, str], dict[str, str]], value: str
) -> None:
    """Pydantic reads "2147483648.0" and "30_000_000_000" as integers: the range check must
    read them the same way, in a path and in a query parameter, or PostgreSQL is asked."""
    client, _page, api_headers = owner
    in_path = client.get(f"/api/v1/w/acme/publish/posts/{value}", headers=api_headers)
    in_query = client.get(f"/api/v1/w/acme/market/matrix?dataset={value}", headers=api_headers)

    assert in_path.status_code == 404
    assert in_query.status_code == 404
    assert "Nothing has the number" in in_query.json()["detail"]


@pytest.mark.parametrize("value", ["³", BEYOND, HUGE])
def test_odd_ids_typed_into_forms_are_refused_as_unknown(
    owner: tuple[TestClient, dict[str, str], dict[str, str]], value: str
) -> None:
    """Ids read from forms and filters by hand (accounts, campaigns, people, items): a number
    ``int`` cannot read, or no database row can have, is an unknown choice, never a 5xx."""
    client, page_headers, _api = owner

    answers = [
        client.post(
            "/w/acme/publish/new",
            data={"title": "t", "body": "b", "channels": value},
            headers=page_headers,
        ),
        client.post(
            "/w/acme/publish/new",
            data={"title": "t", "body": "b", "campaign": value},
            headers=page_headers,
        ),
        client.post(
            "/w/acme/inbox/people/merge",
            data={"keep": value, "merge": value},
            headers=page_headers,
        ),
        client.post(
            "/w/acme/inbox/bulk",
            data={"item": value, "action": "status", "value": "done"},
            headers=page_headers,
            follow_redirects=False,
        ),
        client.get(f"/w/acme/publish?channel={value}&campaign={value}"),
        client.get(f"/w/acme/calendar?channel={value}&campaign={value}"),
    ]

    assert [answer.status_code for answer in answers if answer.status_code >= 500] == []
    assert answers[0].status_code == 400
    assert "That account is not connected to this workspace." in answers[0].text
