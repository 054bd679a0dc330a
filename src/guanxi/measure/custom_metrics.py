"""A workspace's own metrics: a formula over the base metrics, checked when it is defined
(a ``FormulaError`` points at the position), computed from any figures (a post's, or an
account day's), and previewed on the workspace's recent figures before it is saved.

A formula is also written as SQL (``sql_value``), so a list of posts sorts by a custom metric
in the database as it does by a base one: a figure not reported is NULL there as it is None
here, and a division by zero is NULL in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import Float, case, cast, func, literal, null, or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import create_unique
from guanxi.measure.definitions import ENGAGEMENT_METRICS, ENGAGEMENTS, formula_figures
from guanxi.measure.formulas import Formula, Name, Negate, Node, Number, parse
from guanxi.measure.models import (
    CustomMetric,
    CustomMetricCreate,
    MeasuredPost,
)
from guanxi.measure.service import channels_of, period_bounds
from guanxi.measure.store import measure_store

PREVIEW_DAYS = 30
PREVIEW_EXAMPLES = 3


def create_custom_metric(
    db: Session, *, workspace: Workspace, data: CustomMetricCreate, actor: User | None
) -> CustomMetric:
    """Define a workspace's metric; a FormulaError says where its formula is wrong, a
    ConflictError that the name is taken."""
    formula = parse(data.formula)
    name = data.name.strip()
    if not name:
        raise UserError(N_("Give the metric a name, for example “Natural open rate”."))
    values = {
        "workspace_id": workspace.id,
        "name": name,
        "name_zh": data.name_zh.strip(),
        "formula": formula.source.strip(),
        "display": data.display,
        "unit": data.unit.strip(),
        "description": data.description.strip(),
        "created_by_id": actor.id if actor is not None else None,
    }
    metric = create_unique(db, CustomMetric, values, unique=["workspace_id", "name"])
    if metric is None:
        raise ConflictError(
            N_("A metric named “{name}” exists already: choose another name."), name=name
        )
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="custom_metric.create",
        entity_type="custom_metric",
        entity_id=metric.id,
        after={"name": name, "formula": metric.formula},
    )
    return metric


def list_custom_metrics(db: Session, *, workspace: Workspace) -> list[CustomMetric]:
    """The workspace's custom metrics by name."""
    return list(
        db.scalars(
            select(CustomMetric)
            .where(CustomMetric.workspace_id == workspace.id)
            .order_by(CustomMetric.name)
        )
    )


def delete_custom_metric(
    db: Session, *, workspace: Workspace, metric_id: int, actor: User | None
) -> None:
    """Remove one of the workspace's custom metrics."""
    metric = db.get(CustomMetric, metric_id)
    if metric is None or metric.workspace_id != workspace.id:
        raise NotFoundError(N_("No such metric in this workspace."))
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="custom_metric.delete",
        entity_type="custom_metric",
        entity_id=metric.id,
        before={"name": metric.name, "formula": metric.formula},
    )
    db.delete(metric)


def custom_value(metric: CustomMetric, figures: Mapping[Metric, int]) -> float | None:
    """The custom metric's value for these figures (a post's, or an account day's); None
    when a figure it reads is not reported or it divides by zero."""
    return parse(metric.formula).evaluate(formula_figures(figures))


def label(metric: CustomMetric, language: str) -> str:
    """The metric's name in ``language``: the Chinese one for Chinese when it has one."""
    return metric.name_zh if language.startswith("zh") and metric.name_zh else metric.name


def custom_values(
    metrics: Sequence[CustomMetric], figures: Mapping[Metric, int]
) -> dict[str, float | None]:
    """Each metric's value for these figures, by the metric's name."""
    named = formula_figures(figures)
    return {metric.name: parse(metric.formula).evaluate(named) for metric in metrics}


def find_custom_metric(db: Session, *, workspace: Workspace, metric_id: int) -> CustomMetric:
    """One of the workspace's metrics; a NotFoundError for another workspace's or none."""
    metric = db.get(CustomMetric, metric_id)
    if metric is None or metric.workspace_id != workspace.id:
        raise NotFoundError(N_("No such metric in this workspace."))
    return metric


# --- The formula in SQL --------------------------------------------------------------------


def _engagements(table: type[MeasuredPost]) -> Any:
    """The engagements of a row in SQL: the sum of those reported, NULL when none is."""
    columns = [getattr(table, m.value) for m in ENGAGEMENT_METRICS]
    total: Any = func.coalesce(columns[0], 0)
    for column in columns[1:]:
        total = total + func.coalesce(column, 0)
    return case((or_(*(column.is_not(None) for column in columns)), total), else_=None)


def sql_value(formula: Formula, table: type[MeasuredPost]) -> Any:
    """The formula over ``table``'s figure columns, as a SQL expression of a real number."""

    def written(node: Node) -> Any:
        if isinstance(node, Number):
            return literal(node.value, Float)
        if isinstance(node, Name):
            column = _engagements(table) if node.name == ENGAGEMENTS else getattr(table, node.name)
            return cast(column, Float)
        if isinstance(node, Negate):
            return -written(node.operand)
        left, right = written(node.left), written(node.right)
        if node.operator == "+":
            return left + right
        if node.operator == "-":
            return left - right
        if node.operator == "*":
            return left * right
        return case((right == 0, null()), else_=left / right)

    return written(formula.tree)


# --- The preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewExample:
    """A post the preview shows, with the metric's value for it."""

    post_id: int
    text: str
    published_at: datetime
    value: float


@dataclass(frozen=True)
class ValuesSummary:
    """A metric's values over some figures: how many had one, of how many, and their spread."""

    rows: int
    valued: int
    median: float | None
    lowest: float | None
    highest: float | None


@dataclass(frozen=True)
class MetricPreview:
    """A formula computed on the workspace's last 30 days, before it is saved."""

    formula: Formula
    start: date
    end: date
    posts: ValuesSummary  # the posts published in the period, with their latest figures
    days: ValuesSummary  # the accounts' days of the period
    highest_posts: list[PreviewExample]


def _summary(rows: int, values: list[float]) -> ValuesSummary:
    if not values:
        return ValuesSummary(rows, 0, None, None, None)
    return ValuesSummary(rows, len(values), median(values), min(values), max(values))


def preview(db: Session, *, workspace: Workspace, formula: str, today: date) -> MetricPreview:
    """``formula`` parsed (a FormulaError says where it is wrong) and computed on the posts
    published in the 30 days before ``today`` and on the accounts' days of those days."""
    parsed = parse(formula)
    end = today - timedelta(days=1)
    start = end - timedelta(days=PREVIEW_DAYS - 1)
    begins, ends = period_bounds(workspace, start, end)
    channel_ids = [c.id for c in channels_of(db, workspace, None)]
    post_rows = db.execute(
        select(
            MeasuredPost.id,
            MeasuredPost.text_excerpt,
            MeasuredPost.published_at,
            *(getattr(MeasuredPost, m.value) for m in Metric),
        ).where(
            MeasuredPost.workspace_id == workspace.id,
            MeasuredPost.channel_id.in_(channel_ids),
            MeasuredPost.published_at >= begins,
            MeasuredPost.published_at < ends,
        )
    ).all()
    valued: list[tuple[float, Any]] = []
    for row in post_rows:
        figures = {m: v for m, v in zip(Metric, row[3:], strict=True) if v is not None}
        value = parsed.evaluate(formula_figures(figures))
        if value is not None:
            valued.append((value, row))
    days = measure_store(db).days(channel_ids, start, end)
    # The days are evaluated as the posts are: in Python, with the same formula.
    day_values = [
        value
        for day in days
        if (value := parsed.evaluate(formula_figures(day.reported()))) is not None
    ]
    day_count = len(days)
    valued.sort(key=lambda pair: -pair[0])
    return MetricPreview(
        formula=parsed,
        start=start,
        end=end,
        posts=_summary(len(post_rows), [value for value, _row in valued]),
        days=_summary(day_count or 0, [float(value) for value in day_values]),
        highest_posts=[
            PreviewExample(row.id, row.text_excerpt, row.published_at, value)
            for value, row in valued[:PREVIEW_EXAMPLES]
        ],
    )
