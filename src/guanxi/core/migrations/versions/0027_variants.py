"""publishing: one name for a post's version for one account, "variant"

The table ``publish_targets`` becomes ``variants`` and every column that points at it
becomes ``variant_id``. What the application stored under the old name follows: audit
actions ``target.<state>`` and ``publish_target.<action>`` become ``variant.<...>``, the
audited entity type ``publish_target`` becomes ``variant``, and notifications' ``target_id``
parameter becomes ``variant_id``.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 06:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old column, new column, ondelete, indexed)
REFERENCES = (
    ("approvals", "target_id", "variant_id", "CASCADE", True),
    ("publish_attempts", "target_id", "variant_id", "CASCADE", True),
    ("convert_links", "target_id", "variant_id", "SET NULL", False),
    ("measured_posts", "publish_target_id", "variant_id", "SET NULL", True),
)
# The table's own foreign keys: (column, referred table, ondelete).
OWN_KEYS = (
    ("post_id", "posts", "CASCADE"),
    ("workspace_id", "workspaces", "CASCADE"),
    ("cover_media_id", "media_assets", "SET NULL"),
    ("channel_id", "channels", "CASCADE"),
    ("assignee_id", "users", "SET NULL"),
)
# Index name suffix -> columns.
OWN_INDEXES = (
    ("workspace_id", ["workspace_id"]),
    ("due", ["state", "next_attempt_at"]),
    ("channel_id", ["channel_id"]),
    ("calendar", ["workspace_id", "scheduled_at"]),
    ("post_id", ["post_id"]),
)


def _rename(old_table: str, new_table: str, *, forward: bool) -> None:
    """Rename the table, its keys and indexes, and the columns pointing at it."""
    for suffix, _columns in OWN_INDEXES:
        op.drop_index(f"ix_{old_table}_{suffix}", table_name=old_table)
    op.rename_table(old_table, new_table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {new_table} RENAME CONSTRAINT pk_{old_table} TO pk_{new_table}")
    with op.batch_alter_table(new_table, recreate="auto") as batch_op:
        batch_op.drop_constraint(f"uq_{old_table}_idempotency_key", type_="unique")
        batch_op.create_unique_constraint(f"uq_{new_table}_idempotency_key", ["idempotency_key"])
        for column, referred, ondelete in OWN_KEYS:
            batch_op.drop_constraint(f"fk_{old_table}_{column}_{referred}", type_="foreignkey")
            batch_op.create_foreign_key(
                f"fk_{new_table}_{column}_{referred}", referred, [column], ["id"], ondelete=ondelete
            )
    for suffix, columns in OWN_INDEXES:
        op.create_index(f"ix_{new_table}_{suffix}", new_table, columns, unique=False)
    for table, old_column, new_column, ondelete, indexed in REFERENCES:
        old, new = (old_column, new_column) if forward else (new_column, old_column)
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            batch_op.drop_constraint(f"fk_{table}_{old}_{old_table}", type_="foreignkey")
            if indexed:
                batch_op.drop_index(f"ix_{table}_{old}")
            batch_op.alter_column(old, new_column_name=new)
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            if indexed:
                batch_op.create_index(f"ix_{table}_{new}", [new], unique=False)
            batch_op.create_foreign_key(
                f"fk_{table}_{new}_{new_table}", new_table, [new], ["id"], ondelete=ondelete
            )


# Audit actions named after the variant before this revision that were not states.
OTHER_ACTIONS = ("posted_by_hand", "reschedule")


# (action prefix before, action prefix after, which actions; None for every one but update)
FORWARD_ACTIONS = (("target.", "variant.", None), ("publish_target.", "variant.", None))
BACKWARD_ACTIONS = (
    ("variant.", "publish_target.", OTHER_ACTIONS),
    ("variant.", "target.", None),
)


def _renamed_actions(*, forward: bool) -> None:
    """Audit actions and the audited entity type under the new (or the old) name."""
    events = sa.table(
        "audit_events",
        sa.column("action", sa.String()),
        sa.column("entity_type", sa.String()),
    )
    bind = op.get_bind()
    for before, after, only in FORWARD_ACTIONS if forward else BACKWARD_ACTIONS:
        rest = sa.func.substr(events.c.action, len(before) + 1)
        # variant.update was already named so before this revision.
        which = rest.in_(only) if only else events.c.action != "variant.update"
        chosen = sa.and_(events.c.action.like(f"{before}%"), which)
        bind.execute(events.update().where(chosen).values(action=sa.literal(after) + rest))
    entity = ("publish_target", "variant") if forward else ("variant", "publish_target")
    bind.execute(
        events.update().where(events.c.entity_type == entity[0]).values(entity_type=entity[1])
    )


def _renamed_parameter(*, old: str, new: str) -> None:
    """Notifications' parameter ``old`` stored as ``new``."""
    bind = op.get_bind()
    notifications = sa.table(
        "notifications", sa.column("id", sa.Integer()), sa.column("params", sa.JSON())
    )
    rows = bind.execute(
        sa.select(notifications.c.id, notifications.c.params).where(
            sa.cast(notifications.c.params, sa.Text()).like(f'%"{old}"%')
        )
    ).all()
    for row_id, params in rows:
        value = json.loads(params) if isinstance(params, str) else dict(params or {})
        if old in value:
            value[new] = value.pop(old)
            bind.execute(
                notifications.update().where(notifications.c.id == row_id).values(params=value)
            )


def upgrade() -> None:
    """Apply this revision."""
    _rename("publish_targets", "variants", forward=True)
    _renamed_actions(forward=True)
    _renamed_parameter(old="target_id", new="variant_id")


def downgrade() -> None:
    """Revert this revision."""
    _renamed_parameter(old="variant_id", new="target_id")
    _renamed_actions(forward=False)
    _rename("variants", "publish_targets", forward=False)
