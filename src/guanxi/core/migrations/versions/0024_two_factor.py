"""accounts: two-factor sign-in (TOTP) and its recovery codes; workspaces that require it

A person's TOTP secret is stored encrypted (SecretBox); it counts once confirmed with a
code, and the last time step used is kept so that no code works twice. Recovery codes are
stored as digests. An owner may require two-factor sign-in of a workspace's members.
Requests for password-reset links are counted from the audit log by action and time.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guanxi.core.db import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE ADD COLUMN: on SQLite a batch would copy the table, and dropping
    # the old one would cascade to every row that refers to it.
    op.add_column("users", sa.Column("totp_secret", sa.String(length=300), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        "users", sa.Column("totp_last_step", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "workspaces",
        sa.Column("require_two_factor", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "user_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_recovery_codes_user_id"), ["user_id"], unique=False
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_action_created", ["action", "created_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_action_created")
    with op.batch_alter_table("user_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_recovery_codes_user_id"))
    op.drop_table("user_recovery_codes")
    op.drop_column("workspaces", "require_two_factor")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_enabled_at")
    op.drop_column("users", "totp_secret")
