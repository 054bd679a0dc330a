"""The inbox part of the demo workspace."""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add this capability's demo data to ``workspace``; running it again changes nothing."""
    from guanxi.inbox.demo_workflow import load_workflow_demo

    load_workflow_demo(db, workspace=workspace)
