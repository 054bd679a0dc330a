"""The sandbox audience and its platform endpoints, seen from outside (no guanxi)."""

from __future__ import annotations

import html
from datetime import timedelta

from guanxi.core.db import utcnow
from guanxi.sandbox.audience import Fan, FanMessage, engagement_of
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID, DEMO_WECHAT_SECRET
from guanxi.sandbox.weibo import DEMO_WEIBO_NAME, DEMO_WEIBO_TOKEN, DEMO_WEIBO_UID
from tests.inbox_ingest_support import make_stack

TOKEN = {"access_token": DEMO_WEIBO_TOKEN}


def _said(seed: int) -> list[str]:
    stack = make_stack(seed)
    stack.publish("weibo", DEMO_WEIBO_UID, "桃红")
    for _ in range(3):
        stack.tick()
    engagement = engagement_of(stack.sandbox.state)
    return [c.text for c in engagement.comments] + [m.text for m in engagement.mentions]


def test_the_audience_is_reproducible_from_its_seed() -> None:
    assert _said(3) == _said(3)
    assert _said(3) != _said(4)
    assert all(text.strip() for text in _said(3))


def test_without_posts_fans_mention_and_message_but_do_not_comment() -> None:
    stack = make_stack()
    totals = [stack.tick() for _ in range(6)]
    assert sum(t["comments"] for t in totals) == 0
    assert sum(t["mentions"] for t in totals) > 0
    assert sum(t["messages"] for t in totals) > 0
    summary = stack.http.get("/_sandbox/audience").json()
    assert summary["ticks"] == 6


def test_weibo_comment_feeds_filter_page_and_refuse_like_weibo() -> None:
    stack = make_stack()
    post = stack.publish("weibo", DEMO_WEIBO_UID, "桃红")
    other = stack.publish("weibo", DEMO_WEIBO_UID, "白葡萄酒")
    stack.tick(comments=10)
    comments = engagement_of(stack.sandbox.state).comments
    on_post = [c.comment_id for c in comments if c.post_id == post.post_id]

    shown = stack.http.get("/weibo/2/comments/show.json", params={**TOKEN, "id": post.post_id})
    assert [c["idstr"] for c in shown.json()["comments"]] == on_post[::-1]  # newest first
    assert all(c["status"]["idstr"] == post.post_id for c in shown.json()["comments"])
    assert other.post_id != post.post_id

    ids = sorted(c.comment_id for c in comments)
    newer = stack.http.get("/weibo/2/comments/to_me.json", params={**TOKEN, "since_id": ids[6]})
    assert sorted(c["idstr"] for c in newer.json()["comments"]) == ids[7:]
    paged = stack.http.get("/weibo/2/comments/to_me.json", params={**TOKEN, "count": 4, "page": 2})
    assert [c["idstr"] for c in paged.json()["comments"]] == ids[::-1][4:8]

    bad = stack.http.get("/weibo/2/comments/to_me.json", params={**TOKEN, "since_id": "x"})
    assert bad.json()["error_code"] == 10017
    unsigned = stack.http.get("/weibo/2/comments/to_me.json")
    assert (unsigned.status_code, unsigned.json()["error_code"]) == (401, 21301)
    gone = stack.http.post(
        "/weibo/2/comments/reply.json",
        data={**TOKEN, "cid": "1", "id": post.post_id, "comment": "hi"},
    )
    assert gone.json()["error_code"] == 20201


def test_the_account_page_shows_comments_replies_and_mentions() -> None:
    stack = make_stack()
    post = stack.publish("weibo", DEMO_WEIBO_UID, "桃红")
    stack.tick(comments=2)
    fan = engagement_of(stack.sandbox.state).comments[0]
    answered = stack.http.post(
        "/weibo/2/comments/reply.json",
        data={**TOKEN, "cid": fan.comment_id, "id": post.post_id, "comment": "谢谢！"},
    )
    assert answered.status_code == 200
    assert answered.json()["user"]["idstr"] == DEMO_WEIBO_UID
    page = stack.http.get(f"/accounts/weibo/{DEMO_WEIBO_UID}").text
    assert html.escape(fan.text) in page
    assert 'class="comment reply"' in page
    assert "谢谢！" in page
    for mention in engagement_of(stack.sandbox.state).mentions:
        assert mention.text.startswith(f"@{DEMO_WEIBO_NAME}")


def test_wechat_custom_messages_keep_to_the_window() -> None:
    stack = make_stack()
    state = stack.sandbox.state
    fan = Fan("oWindow", "阿窗", 1, -1)
    with state.lock:
        engagement_of(state).messages.append(
            FanMessage(
                "wechat",
                DEMO_WECHAT_APPID,
                state.next_id(),
                fan,
                "在吗",
                utcnow() - timedelta(hours=47),
            )
        )
    token = stack.http.post(
        "/wechat/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": DEMO_WECHAT_APPID,
            "secret": DEMO_WECHAT_SECRET,
        },
    ).json()["access_token"]

    def send(text: str, to: str = "oWindow") -> int:
        body = {"touser": to, "msgtype": "text", "text": {"content": text}}
        answer = stack.http.post(
            "/wechat/cgi-bin/message/custom/send", params={"access_token": token}, json=body
        )
        code: int = answer.json()["errcode"]
        return code

    assert [send(f"回复{i}") for i in range(6)] == [0, 0, 0, 0, 0, 45047]
    assert send("陌生人", to="oNobody") == 45015
    with state.lock:
        engagement_of(state).messages[0].created_at = utcnow() - timedelta(hours=49)
    assert send("太晚了") == 45015
