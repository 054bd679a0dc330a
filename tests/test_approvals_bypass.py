"""Approvals that cannot be bypassed, through the real HTTP routes (issue #11).

Finding 1: an editor's reply waiting for approval, or sent back, cannot be sent by the
editor; reply approval is set on the inbox's settings page, by an owner only. Finding 4: an
external review link is issued for a named reviewer, records one decision, and cannot be
issued by the post's author. (Finding 5, the publishing policy, is in tests/test_policy.py.)
The pure rules behind them are property-tested in tests/test_approval_rules.py.
"""

from __future__ import annotations

import re
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Role
from guanxi.channels.models import Channel
from guanxi.connectors import registry
from guanxi.connectors.base import Capability, ChannelContext, ReplyRequest, ReplyResult
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.replies.models import Reply, ReplyState
from guanxi.inbox.replies.service import reply_rule
from guanxi.publishing import service
from guanxi.publishing.models import Approval, Variant, VariantState
from tests.approvals_support import (
    TEXT,
)
from tests.composer_support import ArticleConnector, MicroConnector, Team, make_team, set_steps
from tests.conftest import csrf_token, sign_in
from tests.inbox_ui_support import make_item


class ReplyingConnector(MicroConnector):
    """A microblog that answers comments, remembering every reply it posted."""

    name = "test_replying"
    capabilities = frozenset({Capability.PUBLISH, Capability.REPLY})
    posted: ClassVar[list[str]] = []

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> ReplyResult:
        del channel
        self.posted.append(request.text)
        return ReplyResult(external_id=f"r{len(self.posted)}")


@pytest.fixture(autouse=True)
def connectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The composer's test connectors, and one that replies."""
    ReplyingConnector.posted = []
    factories = {
        "test_micro": MicroConnector,
        "test_article": ArticleConnector,
        "test_replying": ReplyingConnector,
    }
    monkeypatch.setattr(registry, "connector_factories", lambda: factories)


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    """A workspace with a member per role, a microblog and an article account."""
    return make_team(db, make_user, make_workspace)


def as_user(client: TestClient, email: str) -> None:
    client.cookies.clear()
    sign_in(client, email)


def post_form(client: TestClient, url: str, **data: str) -> str:
    response = client.post(url, data={**data, "csrf_token": csrf_token(client)})
    return response.text


# --- Finding 1: replies -----------------------------------------------------------------------


@pytest.fixture
def comment(db: Session, team: Team) -> InboxItem:
    """A comment on the account that replies through its API."""
    channel = Channel(
        workspace_id=team.workspace.id,
        connector="test_replying",
        platform="weibo",
        external_id="u9",
        name="品牌微博",
        timezone="Asia/Shanghai",
        audience="mainland",
    )
    db.add(channel)
    db.flush()
    item = make_item(db, channel, "什么时候到货？")
    db.commit()
    return item


def reply_state(db: Session) -> tuple[ReplyState, int | None]:
    db.expire_all()
    reply = db.scalars(select(Reply)).one()
    return reply.state, reply.approved_by_id


def reply_url(item: InboxItem, db: Session, action: str) -> str:
    reply_id = db.scalar(select(Reply.id))
    return f"/w/acme/inbox/items/{item.id}/replies/{reply_id}/{action}"


def turn_on_reply_approval(client: TestClient, team: Team, approver_role: str = "manager") -> None:
    as_user(client, team.owner.email)
    response = client.post(
        "/w/acme/inbox/reply-approval",
        data={"required": "1", "approver_role": approver_role, "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_an_editor_cannot_send_a_reply_that_waits_or_was_sent_back(
    client: TestClient, db: Session, team: Team, comment: InboxItem
) -> None:
    """Given reply approval on, when the editor replies, the reply waits; posting "send"
    is refused and sends nothing; after a manager sends it back, the editor is offered no
    "Send again" and "send" is still refused; only after asking again and a manager's
    approval does it go, once. Every decision is audited."""
    turn_on_reply_approval(client, team)
    as_user(client, team.editor.email)
    client.post(
        f"/w/acme/inbox/items/{comment.id}/reply",
        data={"text": "明天到货！", "csrf_token": csrf_token(client)},
    )
    assert reply_state(db) == (ReplyState.PENDING_APPROVAL, None)
    page = client.get(f"/w/acme/inbox/items/{comment.id}").text
    assert "Send again" not in page
    assert "Approve and send" not in page

    refused = client.post(reply_url(comment, db, "send"), data={"csrf_token": csrf_token(client)})
    assert refused.status_code == 403
    assert "This reply is waiting for approval" in refused.text
    assert reply_state(db) == (ReplyState.PENDING_APPROVAL, None)
    assert ReplyingConnector.posted == []

    as_user(client, team.manager.email)
    assert "Approve and send" in client.get(f"/w/acme/inbox/items/{comment.id}").text
    post_form(client, reply_url(comment, db, "reject"), reason="语气再热情些")
    assert reply_state(db) == (ReplyState.DRAFT, None)

    as_user(client, team.editor.email)
    page = client.get(f"/w/acme/inbox/items/{comment.id}").text
    assert "语气再热情些" in page
    assert "Send again" not in page
    assert "Ask for approval again" in page
    refused = client.post(reply_url(comment, db, "send"), data={"csrf_token": csrf_token(client)})
    assert refused.status_code == 403
    assert "This reply needs approval before it is sent." in refused.text
    assert reply_state(db) == (ReplyState.DRAFT, None)
    assert ReplyingConnector.posted == []

    post_form(client, reply_url(comment, db, "request-approval"))
    assert reply_state(db) == (ReplyState.PENDING_APPROVAL, None)
    as_user(client, team.manager.email)
    post_form(client, reply_url(comment, db, "approve"))
    assert reply_state(db) == (ReplyState.SENT, team.manager.id)
    assert ReplyingConnector.posted == ["明天到货！"]

    actions = db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "inbox_reply")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["inbox.reply.reject", "inbox.reply.request_approval", "inbox.reply.approve"]


def test_nobody_approves_their_own_reply(
    client: TestClient, db: Session, team: Team, comment: InboxItem
) -> None:
    """Given owners-only approval, a manager's reply waits; when approval is opened to
    managers, that manager still cannot approve it (no button, and refused), another
    manager can."""
    turn_on_reply_approval(client, team, approver_role="owner")
    as_user(client, team.manager.email)
    client.post(
        f"/w/acme/inbox/items/{comment.id}/reply",
        data={"text": "我们核实一下", "csrf_token": csrf_token(client)},
    )
    assert reply_state(db) == (ReplyState.PENDING_APPROVAL, None)
    turn_on_reply_approval(client, team, approver_role="manager")

    as_user(client, team.manager.email)
    page = client.get(f"/w/acme/inbox/items/{comment.id}").text
    assert "Approve and send" not in page
    assert "You wrote this reply, so another approver must approve it." in page
    refused = client.post(
        reply_url(comment, db, "approve"), data={"csrf_token": csrf_token(client)}
    )
    assert refused.status_code == 403
    assert "You wrote this" in refused.text
    assert ReplyingConnector.posted == []

    as_user(client, team.manager2.email)
    post_form(client, reply_url(comment, db, "approve"))
    assert reply_state(db) == (ReplyState.SENT, team.manager2.id)


def test_only_an_owner_sets_reply_approval_on_its_page(
    client: TestClient, db: Session, team: Team
) -> None:
    """The inbox's "Reply approval" page: the owner turns it on (audited); a manager sees it
    read-only and cannot turn it off; the page exists in Chinese."""
    turn_on_reply_approval(client, team)
    assert "Reply approval" in client.get("/w/acme/inbox").text

    as_user(client, team.manager.email)
    page = client.get("/w/acme/inbox/reply-approval")
    assert page.status_code == 200
    assert "Only an owner changes who approves." in page.text
    assert 'name="required" value="1" checked' in page.text
    refused = client.post(
        "/w/acme/inbox/reply-approval",
        data={"approver_role": "manager", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 403
    assert "Only an owner changes who approves" in refused.text

    client.post("/language", data={"language": "zh_Hans", "csrf_token": csrf_token(client)})
    assert "回复审批" in client.get("/w/acme/inbox/reply-approval").text

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "inbox.reply_approval.update")
    ).all()
    assert [(e.actor_label, e.after) for e in events] == [
        ("owner@acme.example", {"required": True, "approver_role": "manager"})
    ]


# --- Finding 4: external review links -----------------------------------------------------------


def submitted(db: Session, team: Team, author: Membership | None = None) -> str:
    """A post by ``author`` (the editor by default), submitted for review; its page URL."""
    user = author.user if author else team.editor
    post = service.create_post(
        db,
        workspace=team.workspace,
        actor=user,
        title="春季上新",
        body=TEXT,
        campaign="",
        channel_ids=[str(team.micro.id)],
    )
    for variant in post.variants:
        variant.state = VariantState.IN_REVIEW
    db.commit()
    return f"/w/acme/posts/{post.id}"


def issue_link(client: TestClient, location: str, reviewer: str) -> str:
    page = post_form(client, f"{location}/review-link", days="3", reviewer=reviewer)
    match = re.search(r"/review/([\w.\-]+)", page)
    assert match, page
    return match.group(1)


def decide_externally(client: TestClient, token: str, **data: str) -> tuple[int, str]:
    client.cookies.clear()
    response = client.post(
        f"/review/{token}",
        data={"decision": "approve", **data, "csrf_token": csrf_token(client)},
    )
    return response.status_code, response.text


def labels(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Approval.reviewer_label).order_by(Approval.id)))


def test_a_review_link_records_one_decision_as_its_named_reviewer(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given two steps, a link issued for Alice approves once, as Alice, whatever name is
    typed; submitting it again (as "Bob") is refused and the second step stays open."""
    set_steps(db, team.workspace, 2)
    location = submitted(db, team)
    as_user(client, team.manager.email)
    token = issue_link(client, location, "Alice")

    client.cookies.clear()
    page = client.get(f"/review/{token}").text
    assert "You review as Alice." in page
    assert 'name="name"' not in page
    status, text = decide_externally(client, token, name="Alice")
    assert status == 200
    assert "your decision was recorded" in text
    status, text = decide_externally(client, token, name="Bob")
    assert status == 403
    assert "This review link was already used" in text
    assert "already recorded a decision" in client.get(f"/review/{token}").text

    assert labels(db) == ["Alice (external)"]
    assert db.scalar(select(Variant.state)) == VariantState.IN_REVIEW
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "variant.approve")).one()
    assert event.actor_label == "Alice (external)"


def test_one_reviewer_fills_one_step_even_with_two_links(
    client: TestClient, db: Session, team: Team
) -> None:
    """Two links for the same reviewer (names differing in case and spaces) cannot fill both
    steps; a link for someone else can."""
    set_steps(db, team.workspace, 2)
    location = submitted(db, team)
    as_user(client, team.manager.email)
    first, second = issue_link(client, location, "Alice"), issue_link(client, location, " alice ")
    as_user(client, team.manager2.email)
    third = issue_link(client, location, "王律师")

    assert decide_externally(client, first)[0] == 200
    status, text = decide_externally(client, second)
    assert status == 403
    assert "You approved an earlier step" in text
    assert decide_externally(client, third)[0] == 200
    assert labels(db) == ["Alice (external)", "王律师 (external)"]
    assert db.scalar(select(Variant.state)) == VariantState.APPROVED


def test_an_author_cannot_approve_their_post_through_a_review_link(
    client: TestClient, db: Session, team: Team
) -> None:
    """Issue #11, finding 4: a manager who wrote the post is offered no review link and is
    refused one; so is a manager who edited the variant."""
    manager = db.scalar(select(Membership).where(Membership.user_id == team.manager.id))
    location = submitted(db, team, author=manager)
    as_user(client, team.manager.email)
    page = client.get(location).text
    assert "Create a review link" not in page
    assert "Approve step" not in page
    refused = client.post(
        f"{location}/review-link",
        data={"days": "3", "reviewer": "Bob", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 403
    assert "You wrote this post, so you cannot send it for external review yourself" in (
        refused.text
    )

    # The other manager edits the variant: now they are one of its authors too.
    variant_id = db.scalar(select(Variant.id))
    as_user(client, team.manager2.email)
    post_form(client, f"{location}/variants/{variant_id}", text=TEXT + "限时优惠。")
    db.expire_all()
    variant = db.get(Variant, variant_id)
    assert variant is not None
    assert team.manager2.id in variant.content_author_ids
    page = client.get(location).text
    assert "Create a review link" not in page
    assert "You wrote or edited this variant" in page
    refused = client.post(
        f"{location}/variants/{variant_id}/decide",
        data={"decision": "approve", "comment": "", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 403
    assert db.scalars(select(Approval)).all() == []

    as_user(client, team.owner.email)
    token = issue_link(client, location, "王律师")
    assert decide_externally(client, token)[0] == 200
    assert labels(db) == ["王律师 (external)"]


def test_the_owner_sets_two_steps_the_editor_still_needs_both_before_scheduling(
    client: TestClient, db: Session, team: Team
) -> None:
    """Content that needs approval cannot leave before it has it: with one of two steps
    approved, scheduling is refused and the variant stays in review."""
    set_steps(db, team.workspace, 2)
    location = submitted(db, team)
    variant_id = db.scalar(select(Variant.id))
    as_user(client, team.manager.email)
    post_form(client, f"{location}/variants/{variant_id}/decide", decision="approve", comment="")
    as_user(client, team.editor.email)
    refused = client.post(
        f"{location}/variants/{variant_id}/schedule",
        data={"now": "1", "tz": "Asia/Shanghai", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 400
    assert "Only an approved variant can be scheduled" in refused.text
    db.expire_all()
    assert db.scalar(select(Variant.state)) == VariantState.IN_REVIEW


def test_reply_approval_defaults_to_off_with_managers_approving(db: Session, team: Team) -> None:
    """A workspace nobody configured: replies go directly; managers would approve."""
    rule = reply_rule(db, workspace_id=team.workspace.id)
    assert (rule.steps, rule.lowest_role) == (0, Role.MANAGER)
