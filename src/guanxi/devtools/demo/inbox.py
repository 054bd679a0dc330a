"""The inbox part of the demo workspace, its workflow: saved replies in Chinese and English,
moderation and assignment rules, response targets and a debate. Idempotent: each piece is
added only when the workspace has none of its kind."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Permission, Workspace
from guanxi.accounts.service import list_members
from guanxi.devtools.demo import DemoStep
from guanxi.inbox.debates.models import Debate
from guanxi.inbox.replies.models import SavedReply
from guanxi.inbox.triage.models import AssignmentRule, ModerationRule, SlaPolicy

SAVED_REPLIES = (
    ("感谢支持", "zh", "{name}您好，感谢您对普罗旺斯葡萄酒的支持！🍷"),
    ("售后处理", "zh", "{name}您好，非常抱歉给您带来不便，请私信我们订单号，我们会尽快处理。"),
    ("Thank you", "en", "Thank you {name}! We are glad you enjoy our wines."),
    (
        "After-sales",
        "en",
        "Sorry about this, {name}. Please send us your order number in a message.",
    ),
)


def _count(db: Session, model: type, workspace: Workspace) -> int:
    column = model.workspace_id  # type: ignore[attr-defined]
    return int(db.scalar(select(func.count()).where(column == workspace.id)) or 0)


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add the demo workflow to ``workspace``; running it again changes nothing."""
    writers = [m.user_id for m in list_members(db, workspace=workspace) if m.can(Permission.WRITE)]
    if not _count(db, SavedReply, workspace):
        for title, language, text in SAVED_REPLIES:
            db.add(SavedReply(workspace_id=workspace.id, title=title, language=language, text=text))
    if not _count(db, ModerationRule, workspace):
        db.add(
            ModerationRule(
                workspace_id=workspace.id,
                name="垃圾广告 Spam",
                position=0,
                conditions=[
                    {"kind": "advertising", "value": ""},
                    {"kind": "link", "value": ""},
                    {"kind": "repeated_text", "value": ""},
                ],
                actions=[{"kind": "flag", "value": ""}, {"kind": "set_priority", "value": "0"}],
            )
        )
        db.add(
            ModerationRule(
                workspace_id=workspace.id,
                name="辱骂 Abuse",
                position=1,
                conditions=[{"kind": "abuse", "value": ""}],
                actions=[{"kind": "flag", "value": ""}],
            )
        )
    if not _count(db, AssignmentRule, workspace) and writers:
        db.add(
            AssignmentRule(
                workspace_id=workspace.id,
                name="微博轮流 Weibo round robin",
                platform="weibo",
                assignee_ids=writers,
            )
        )
    if db.get(SlaPolicy, workspace.id) is None:
        db.add(
            SlaPolicy(
                workspace_id=workspace.id,
                first_response_minutes=60,
                resolution_minutes=8 * 60,
                business_hours_only=True,
            )
        )
    if not _count(db, Debate, workspace):
        db.add(
            Debate(workspace_id=workspace.id, hashtag="普罗旺斯之夏", title="Summer rosé 夏日桃红")
        )
    db.flush()


DEMO = DemoStep(order=30, load=load_demo)
