"""checks: every workspace has had the default sensitive-word list

A workspace now gets the default list when it is created. Workspaces created before were
given it on their first check or visit to the list; those that never were get it here,
exactly as they would have: the terms not listed yet, and the audit event that records the
seed (so a list emptied on purpose is never filled again).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:10:00
"""

from collections.abc import Sequence
from functools import cache

import opencc
import sqlalchemy as sa
from alembic import op

from guanxi.core.db import UTCDateTime, utcnow

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEED_ACTION = "sensitive_words.seed"

# The default list (term, category, severity) as it was at this revision, frozen here so
# that the migration gives the same terms whatever later becomes of checks/data.
DEFAULT_WORDS: tuple[tuple[str, str, str], ...] = (
    ("最", "absolute_terms", "warn"),
    ("第一", "absolute_terms", "warn"),
    ("最佳", "absolute_terms", "block"),
    ("最好", "absolute_terms", "block"),
    ("最高级", "absolute_terms", "block"),
    ("最优", "absolute_terms", "block"),
    ("最强", "absolute_terms", "block"),
    ("最低价", "absolute_terms", "block"),
    ("最便宜", "absolute_terms", "block"),
    ("最先进", "absolute_terms", "block"),
    ("最具", "absolute_terms", "block"),
    ("国家级", "absolute_terms", "block"),
    ("世界级", "absolute_terms", "block"),
    ("全球级", "absolute_terms", "block"),
    ("极致", "absolute_terms", "block"),
    ("极品", "absolute_terms", "block"),
    ("顶级", "absolute_terms", "block"),
    ("顶尖", "absolute_terms", "block"),
    ("首个", "absolute_terms", "block"),
    ("首家", "absolute_terms", "block"),
    ("首选", "absolute_terms", "block"),
    ("唯一", "absolute_terms", "block"),
    ("独一无二", "absolute_terms", "block"),
    ("全网第一", "absolute_terms", "block"),
    ("销量第一", "absolute_terms", "block"),
    ("排名第一", "absolute_terms", "block"),
    ("第一品牌", "absolute_terms", "block"),
    ("NO.1", "absolute_terms", "block"),
    ("TOP1", "absolute_terms", "block"),
    ("史无前例", "absolute_terms", "block"),
    ("万能", "absolute_terms", "block"),
    ("100%", "absolute_terms", "warn"),
    ("绝对", "absolute_terms", "warn"),
    ("王牌", "absolute_terms", "warn"),
    ("领导品牌", "absolute_terms", "block"),
    ("国家机关推荐", "state_endorsement", "block"),
    ("国家领导人推荐", "state_endorsement", "block"),
    ("国家免检", "state_endorsement", "block"),
    ("特供", "state_endorsement", "block"),
    ("专供", "state_endorsement", "block"),
    ("国宴专用", "state_endorsement", "block"),
    ("治疗", "medical_claims", "warn"),
    ("治愈", "medical_claims", "block"),
    ("根治", "medical_claims", "block"),
    ("药到病除", "medical_claims", "block"),
    ("包治百病", "medical_claims", "block"),
    ("消炎", "medical_claims", "warn"),
    ("抗癌", "medical_claims", "block"),
    ("防癌", "medical_claims", "block"),
    ("减肥", "medical_claims", "warn"),
    ("无副作用", "efficacy_guarantees", "block"),
    ("无效退款", "efficacy_guarantees", "block"),
    ("保证有效", "efficacy_guarantees", "block"),
    ("永不反弹", "efficacy_guarantees", "block"),
    ("稳赚", "investment_promises", "block"),
    ("保本", "investment_promises", "block"),
    ("零风险", "investment_promises", "block"),
    ("无风险", "investment_promises", "block"),
)


@cache
def _converter() -> "opencc.OpenCC":
    return opencc.OpenCC("t2s.json")


def _to_simplified(text: str) -> str:
    return str(_converter().convert(text))


@cache
def _single_t2s(char: str) -> str:
    single = _to_simplified(char)
    return single if len(single) == 1 else char


def _lower(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def normalize(term: str) -> str:
    """``term`` in Simplified characters and lower case, character for character, as the
    checks compared terms at this revision."""
    converted = _to_simplified(term)
    if len(converted) != len(term):
        converted = "".join(_single_t2s(char) for char in term)
    return "".join(_lower(char) for char in converted)


workspaces = sa.table("workspaces", sa.column("id", sa.Integer))
words = sa.table(
    "sensitive_words",
    sa.column("workspace_id", sa.Integer),
    sa.column("term", sa.String),
    sa.column("category", sa.String),
    sa.column("severity", sa.String),
    sa.column("created_at", UTCDateTime),
)
audit_events = sa.table(
    "audit_events",
    sa.column("workspace_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("after", sa.JSON),
    sa.column("created_at", UTCDateTime),
)


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    seeded = sa.select(audit_events.c.workspace_id).where(audit_events.c.action == SEED_ACTION)
    unseeded = bind.scalars(
        sa.select(workspaces.c.id).where(workspaces.c.id.not_in(seeded)).order_by(workspaces.c.id)
    ).all()
    now = utcnow()
    for workspace_id in unseeded:
        listed = {
            normalize(term)
            for term in bind.scalars(
                sa.select(words.c.term).where(words.c.workspace_id == workspace_id)
            )
        }
        rows = [
            {
                "workspace_id": workspace_id,
                "term": term,
                "category": category,
                "severity": severity,
                "created_at": now,
            }
            for term, category, severity in DEFAULT_WORDS
            if normalize(term) not in listed
        ]
        if rows:
            bind.execute(words.insert(), rows)
        bind.execute(
            audit_events.insert().values(
                workspace_id=workspace_id,
                actor_label="system",
                action=SEED_ACTION,
                entity_type="sensitive_words",
                entity_id=str(workspace_id),
                after={"terms": len(DEFAULT_WORDS)},
                created_at=now,
            )
        )


def downgrade() -> None:
    """Nothing to undo: the terms are the workspaces' lists now, as after a first check."""
