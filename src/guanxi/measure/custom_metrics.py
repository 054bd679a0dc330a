"""A workspace's own metrics: a formula over the base metrics, checked when it is defined
(a ``FormulaError`` points at the position), computed from any figures (a post's, or an
account day's), and previewed on the workspace's recent posts before it is saved.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.connectors.base import Metric
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import create_unique
from guanxi.measure.definitions import formula_figures
from guanxi.measure.formulas import parse
from guanxi.measure.models import CustomMetric, CustomMetricCreate


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
