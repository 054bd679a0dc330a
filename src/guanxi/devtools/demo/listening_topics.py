"""The demo workspace's topic queries and an alert rule (``load_insight_demo``).

``listening.load_demo`` calls it after the demo mentions are loaded;
creating a topic matches it against the mentions already there, so the dashboards show
data at once. Running it again changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.listening.alerts.models import AlertMetric, AlertRule
from guanxi.listening.alerts.service import RuleForm, save_rule
from guanxi.listening.topics.models import TopicCategory, TopicQuery
from guanxi.listening.topics.service import TopicForm, create_topic

DEMO_TOPICS = (
    TopicForm(
        name="Provence wines", query="普罗旺斯 OR 桃红 OR provence", category=TopicCategory.BRAND
    ),
    TopicForm(name="Bordeaux", query="波尔多 OR bordeaux", category=TopicCategory.COMPETITOR),
    TopicForm(name="Jay Chou", query='周杰伦 OR "jay chou"', category=TopicCategory.THEME),
    TopicForm(
        name="Artificial intelligence",
        query='人工智能 OR AI OR "机器学习"',
        category=TopicCategory.THEME,
    ),
    TopicForm(name="Graduation", query="毕业 NOT 招聘", category=TopicCategory.THEME),
    TopicForm(name="Hollywood", query="好莱坞 OR hollywood", category=TopicCategory.THEME),
    TopicForm(
        name="Food safety", query="食品安全 OR (过期 NEAR/5 食品)", category=TopicCategory.THEME
    ),
)


def load_insight_demo(db: Session, *, workspace: Workspace) -> None:
    """Add the demo topics (and a negative-share alert on Jay Chou) if they are missing."""
    known = set(db.scalars(select(TopicQuery.name).where(TopicQuery.workspace_id == workspace.id)))
    for form in DEMO_TOPICS:
        if form.name not in known:
            create_topic(db, workspace_id=workspace.id, form=form)
    has_rule = db.scalar(select(AlertRule.id).where(AlertRule.workspace_id == workspace.id))
    if has_rule is None:
        jay = db.scalar(
            select(TopicQuery.id).where(
                TopicQuery.workspace_id == workspace.id, TopicQuery.name == "Jay Chou"
            )
        )
        if jay is not None:
            save_rule(
                db,
                workspace_id=workspace.id,
                form=RuleForm(
                    topic_id=jay,
                    metric=AlertMetric.NEGATIVE_SHARE,
                    window_hours=24,
                    baseline_days=14,
                    min_mentions=5,
                    notify_email=False,
                ),
            )
    db.flush()
