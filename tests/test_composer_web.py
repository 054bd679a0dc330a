"""The publishing pages as a user drives them: compose, check inline, approve, schedule, and
review from outside through a link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.publishing.models import Post, Variant, VariantState
from tests.composer_support import (
    Team,
    make_team,
    set_steps,
    test_connectors,  # noqa: F401 - a fixture
)
from tests.conftest import csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("test_connectors")

TEXT = "春季新品上市，欢迎来店里看看。"


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    """A workspace with a member per role, a microblog and an article account."""
    return make_team(db, make_user, make_workspace)


def as_user(client: TestClient, email: str, language: str = "en") -> None:
    client.cookies.clear()
    sign_in(client, email)
    client.post(
        "/language", data={"language": language, "csrf_token": csrf_token(client), "next": "/"}
    )


def compose(client: TestClient, team: Team, **fields: object) -> tuple[int, str]:
    data = {
        "csrf_token": csrf_token(client),
        "title": "春季上新",
        "body": TEXT,
        "campaign": "",
        "channels": [str(team.micro.id)],
        **fields,
    }
    response = client.post("/w/acme/publish/new", data=data, follow_redirects=False)
    return response.status_code, response.headers.get("location", response.text)


def test_an_editor_composes_in_chinese_and_sees_the_variants(
    client: TestClient, db: Session, team: Team
) -> None:
    as_user(client, team.editor.email, "zh_Hans")
    form = client.get("/w/acme/publish/new")
    assert form.status_code == 200
    assert "品牌微博" in form.text
    status, location = compose(client, team, channels=[str(team.micro.id), str(team.article.id)])
    assert status == 303
    page = client.get(location)
    assert page.status_code == 200
    assert 'lang="zh-Hans"' in page.text
    assert page.text.count(TEXT) >= 3  # the master and each variant
    # The article account asks for a title, a summary and a cover; the microblog does not.
    micro, article = page.text.split('<section class="card variant"')[1:3]
    assert "品牌公众号" in article
    assert 'name="digest"' in article
    assert 'name="digest"' not in micro
    listing = client.get("/w/acme/publish")
    assert "春季上新" in listing.text


def test_a_bad_post_comes_back_explained_and_nothing_is_created(
    client: TestClient, db: Session, team: Team
) -> None:
    as_user(client, team.editor.email)
    status, text = compose(client, team, channels=[])
    assert status == 400
    assert "Choose at least one connected account" in text
    assert TEXT in text  # what was typed is kept
    assert db.scalar(select(func.count()).select_from(Post)) == 0


def test_an_analyst_reads_but_cannot_compose(client: TestClient, team: Team) -> None:
    as_user(client, team.analyst.email)
    assert client.get("/w/acme/publish").status_code == 200
    assert client.get("/w/acme/publish/new").status_code == 403
    status, _ = compose(client, team)
    assert status == 403


def test_checks_run_inline_on_what_is_typed(client: TestClient, db: Session, team: Team) -> None:
    as_user(client, team.editor.email)
    _, location = compose(client, team)
    variant = db.scalar(select(Variant))
    assert variant is not None
    response = client.post(
        f"{location}/variants/{variant.id}/check",
        data={"csrf_token": csrf_token(client), "text": "这是 #话题 测试"},
    )
    assert response.status_code == 200
    assert "Posts with an image reach more readers." in response.text
    assert "#话题#" in response.text  # the hashtag check's advice for the microblog
    db.expire_all()
    assert db.get(Variant, variant.id).text == TEXT  # nothing saved

    marked = client.post(
        f"{location}/variants/{variant.id}/check",
        data={"csrf_token": csrf_token(client), "text": "全城最好喝的葡萄酒"},
    )
    backdrop = re.search(
        rf'<span class="highlight-backdrop" id="backdrop-{variant.id}"[^>]*hx-swap-oob="true">'
        r"(.*?)</span>",
        marked.text,
        re.DOTALL,
    )
    assert backdrop is not None  # swapped in behind the textarea, marks where the hits are
    assert re.sub(r"<[^>]+>", "", backdrop.group(1)) == "全城最好喝的葡萄酒"
    assert re.search(r'<mark class="mark-(error|warning)">[^<]*最[^<]*</mark>', backdrop.group(1))


def test_submit_approve_and_schedule_through_the_pages(
    client: TestClient, db: Session, team: Team
) -> None:
    """The editor writes and submits; the manager overrides the image warning and approves;
    the editor schedules at a time typed in Paris time and sees it with Shanghai time."""
    as_user(client, team.editor.email)
    _, location = compose(client, team)
    variant_id = db.scalar(select(Variant.id))
    client.post(f"{location}/submit", data={"csrf_token": csrf_token(client)})
    page = client.get(location)
    assert "You wrote or edited this variant" in page.text

    as_user(client, team.manager.email)
    client.post(
        f"{location}/variants/{variant_id}/override",
        data={"csrf_token": csrf_token(client), "code": "media.none", "reason": "文字公告"},
    )
    client.post(
        f"{location}/variants/{variant_id}/decide",
        data={"csrf_token": csrf_token(client), "decision": "approve", "comment": ""},
    )
    page = client.get(location)
    assert "Overridden by manager@acme.example: 文字公告" in page.text

    as_user(client, team.editor.email)
    response = client.post(
        f"{location}/variants/{variant_id}/schedule",
        data={"csrf_token": csrf_token(client), "when": "2031-05-01T09:00", "tz": "Europe/Paris"},
    )
    page = client.get(location)
    # Typed in Paris; shown in the editor's zone (the workspace's until she chooses one).
    assert "2031-05-01 15:00 UTC+8 (Asia/Shanghai)" in page.text, response.text
    assert "2031-05-01 15:00 UTC+8 in the account's zone (Asia/Shanghai)" in page.text
    db.expire_all()
    assert db.get(Variant, variant_id).state == VariantState.SCHEDULED


def test_scheduling_with_an_unresolved_warning_is_refused_and_explained(
    client: TestClient, db: Session, team: Team
) -> None:
    set_steps(db, team.workspace, 0)
    as_user(client, team.editor.email)
    _, location = compose(client, team)
    variant_id = db.scalar(select(Variant.id))
    response = client.post(
        f"{location}/variants/{variant_id}/schedule",
        data={"csrf_token": csrf_token(client), "now": "1", "tz": "Asia/Shanghai"},
    )
    assert response.status_code == 400
    assert "1 warning(s) need a manager&#39;s override" in response.text
    db.expire_all()
    assert db.get(Variant, variant_id).state == VariantState.DRAFT


def test_an_external_reviewer_sees_only_the_post_and_approves_it(
    client: TestClient, db: Session, team: Team
) -> None:
    as_user(client, team.editor.email)
    _, location = compose(client, team)
    client.post(f"{location}/submit", data={"csrf_token": csrf_token(client)})
    as_user(client, team.manager.email)
    page = client.post(
        f"{location}/review-link",
        data={"csrf_token": csrf_token(client), "days": "3", "reviewer": "王律师"},
    )
    match = re.search(r"/review/([\w.\-]+)", page.text)
    assert match, page.text
    token = match.group(1)

    client.cookies.clear()
    review = client.get(f"/review/{token}")
    assert review.status_code == 200
    assert TEXT in review.text
    assert "/w/acme" not in review.text  # nothing of the workspace beyond this post
    assert "You review as 王律师." in review.text
    refused = client.post(
        f"/review/{token}",
        data={"csrf_token": csrf_token(client), "decision": "reject", "comment": ""},
    )
    assert refused.status_code == 400
    assert "a rejection needs a comment" in refused.text
    done = client.post(
        f"/review/{token}", data={"csrf_token": csrf_token(client), "decision": "approve"}
    )
    assert "your decision was recorded" in done.text
    db.expire_all()
    assert db.scalar(select(Variant.state)) == VariantState.APPROVED
    assert client.get(f"/review/{token}x").status_code == 404


def test_the_publish_section_is_no_longer_coming_soon(client: TestClient, team: Team) -> None:
    as_user(client, team.owner.email)
    page = client.get("/w/acme/publish")
    assert "Coming soon" not in page.text
    assert "New post" in page.text


def test_comments_are_kept_and_an_empty_one_is_explained(
    client: TestClient, db: Session, team: Team
) -> None:
    as_user(client, team.editor.email)
    _, location = compose(client, team)
    client.post(
        f"{location}/comments", data={"csrf_token": csrf_token(client), "body": "配图再换一张"}
    )
    empty = client.post(
        f"{location}/comments", data={"csrf_token": csrf_token(client), "body": " "}
    )
    assert empty.status_code == 400
    assert "Write a comment of 1 to 4000 characters." in empty.text
    page = client.get(location)
    assert "配图再换一张" in page.text
    assert page.text.count("配图再换一张") == 1

    as_user(client, team.analyst.email)
    refused = client.post(
        f"{location}/comments", data={"csrf_token": csrf_token(client), "body": "x"}
    )
    assert refused.status_code == 403


def test_the_hits_of_the_checks_are_marked_in_the_variant_text(
    client: TestClient, team: Team
) -> None:
    """Given a variant with a superlative (最, on the default list of words to avoid),
    the post page shows its text with that hit marked as a warning; a clean text has no
    marked copy at all."""
    as_user(client, team.editor.email)
    _status, location = compose(client, team, body="本店最受欢迎的春季新品上市。")
    page = client.get(location)
    assert '<mark class="mark-warning">最</mark>' in page.text
    assert "本店" in page.text.split('class="highlighted"')[1].split("</p>")[0]

    _status, clean = compose(client, team)
    assert 'class="highlighted"' not in client.get(clean).text


def test_the_posts_list_comes_in_pages_of_fifty_newest_first_keeping_the_filters(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given 120 posts, the list shows 50 a page, newest first, and its page links keep the
    filters; a page past the end shows the last page."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    db.add_all(
        Post(
            workspace_id=team.workspace.id,
            title=f"post-{n:03d}",
            body=TEXT,
            created_at=start + timedelta(minutes=n),
        )
        for n in range(120)
    )
    db.commit()
    as_user(client, team.analyst.email)

    def titles(path: str) -> list[str]:
        return re.findall(r">(post-\d{3})</a>", client.get(path).text)

    assert titles("/w/acme/publish") == [f"post-{n:03d}" for n in range(119, 69, -1)]
    assert titles("/w/acme/publish?page=3") == [f"post-{n:03d}" for n in range(19, -1, -1)]
    assert titles("/w/acme/publish?page=99") == titles("/w/acme/publish?page=3")
    second = client.get("/w/acme/publish?page=2").text
    assert "Page 2 of 3" in second
    assert 'href="?page=1"' in second
    assert 'href="?page=3"' in second
    filtered = client.get("/w/acme/publish?state=draft").text
    assert "No posts match yet." in filtered  # these posts have no variants
    assert "Page 1 of" not in filtered
