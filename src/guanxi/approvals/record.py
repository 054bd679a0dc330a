"""Every approval decision goes to the audit log, in the transaction of the change it makes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, User, Workspace
from guanxi.accounts.service import record_audit


def record_decision(
    db: Session,
    *,
    workspace: Workspace | None,
    subject: str,
    entity_type: str,
    entity_id: int,
    approved: bool,
    actor: User | None,
    actor_label: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Audit an approval or a rejection: action ``<subject>.approve`` or ``<subject>.reject``.

    ``details`` (the step, the comment, the content seen) go in the event's ``after``.
    """
    return record_audit(
        db,
        actor=actor,
        actor_label=actor_label,
        workspace=workspace,
        action=f"{subject}.approve" if approved else f"{subject}.reject",
        entity_type=entity_type,
        entity_id=entity_id,
        after=details or {},
        ip=ip,
    )
