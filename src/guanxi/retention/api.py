"""``/api/v1/w/{slug}/retention``: how long the workspace keeps each kind of raw row; owners
change a period with the same rules as the page."""

from __future__ import annotations

from guanxi.core import i18n
from guanxi.retention import service
from guanxi.retention.models import RetentionRead, RetentionUpdate
from guanxi.web.api import ApiOwner, ApiReader, workspace_api
from guanxi.web.deps import Db

router = workspace_api("retention", tags=["retention"])


def _read(shown: service.KindRetention) -> RetentionRead:
    return RetentionRead(
        kind=shown.kind.key,
        label=i18n.gettext(shown.kind.label),
        keep_days=shown.keep_days,
        minimum_days=shown.kind.minimum_days,
        maximum_days=shown.kind.maximum_days,
        detail_kept_from=shown.detail_kept_from,
        rows_deleted=shown.rows_deleted,
    )


@router.get("", response_model=list[RetentionRead])
def api_retention(db: Db, membership: ApiReader) -> list[RetentionRead]:
    """Every kind of raw row with how long the workspace keeps it."""
    return [
        _read(shown)
        for shown in service.workspace_retention(db, workspace_id=membership.workspace_id)
    ]


@router.put("/{kind}", response_model=RetentionRead)
def api_set_retention(
    db: Db, membership: ApiOwner, kind: str, body: RetentionUpdate
) -> RetentionRead:
    """Keep one kind for ``keep_days`` days (null: forever); owners only. The rows go at the
    next daily deletion run."""
    shown = service.set_retention(
        db,
        workspace=membership.workspace,
        actor=membership.user,
        kind=kind,
        keep_days=body.keep_days,
    )
    db.commit()
    return _read(shown)
