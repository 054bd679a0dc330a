"""convert: a tracked link may belong to a KOL (who shares it)

The KOL leaderboard counts the clicks on a KOL's links, and attribution credits a click's
orders to the link's KOL as well as its campaign and post.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_convert_links_kol_id_convert_kols"


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "sqlite":
        _add_sqlite_column()
    else:
        op.add_column("convert_links", sa.Column("kol_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            FOREIGN_KEY, "convert_links", "convert_kols", ["kol_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index(op.f("ix_convert_links_kol_id"), "convert_links", ["kol_id"], unique=False)


CONSTRAINT = (
    f"CONSTRAINT {FOREIGN_KEY} FOREIGN KEY(kol_id) REFERENCES convert_kols (id) ON DELETE SET NULL"
)


def _add_sqlite_column() -> None:
    """Add the column with its reference, written as a table constraint like the others.

    A batch would copy convert_links, and dropping the old table would cascade to every
    click; so the column is added in place, and its reference then moved from the column to
    the table's constraints in the stored schema (SQLite's documented way to change a
    table's schema text: the same constraint, where reflection reads its name and action).
    """
    op.execute(
        "ALTER TABLE convert_links ADD COLUMN kol_id INTEGER "
        "REFERENCES convert_kols (id) ON DELETE SET NULL"
    )
    column = "kol_id INTEGER REFERENCES convert_kols (id) ON DELETE SET NULL"
    head, tail = _schema().rsplit(")", 1)
    _set_schema(head.replace(column, "kol_id INTEGER") + f", \n\t{CONSTRAINT}\n)" + tail)


def _schema() -> str:
    sql: str = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'convert_links'"
        )
        .scalar_one()
    )
    return sql


def _set_schema(sql: str) -> None:
    bind = op.get_bind()
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar_one())
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'convert_links'",
        (sql,),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_convert_links_kol_id"), table_name="convert_links")
    if op.get_bind().dialect.name == "sqlite":
        # The constraint leaves the stored schema first: SQLite drops no referencing column.
        _set_schema(_schema().replace(f", \n\t{CONSTRAINT}\n", "\n"))
        op.execute("ALTER TABLE convert_links DROP COLUMN kol_id")
    else:
        op.drop_constraint(FOREIGN_KEY, "convert_links", type_="foreignkey")
        op.drop_column("convert_links", "kol_id")
