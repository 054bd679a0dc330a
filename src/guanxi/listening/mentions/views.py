"""The mentions' pages: the mentions list, a mention's page, and the official accounts the
workspace tracks (their posts count as marketer-dominated sources).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.core import fields, i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.listening.intake import service as intake
from guanxi.listening.mentions import service
from guanxi.listening.mentions.models import OFFICIAL_RELATION_LABELS
from guanxi.listening.mentions.retention import KIND as RETAINED
from guanxi.retention.service import detail_kept_from
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SECTION = "listen"

SENTIMENT_LABELS = {
    "positive": N_("Positive"),
    "neutral": N_("Neutral"),
    "negative": N_("Negative"),
}
SOURCE_KIND_LABELS = {
    "personal": N_("Personal"),
    "public": N_("Public"),
    "marketer": N_("Marketer-dominated"),
}
STAGE_LABELS = {
    "need_recognition": N_("Need recognition"),
    "information_search": N_("Information search"),
    "evaluation": N_("Evaluation of alternatives"),
    "purchase": N_("Purchase"),
    "post_purchase": N_("Post-purchase experience"),
    "none": N_("No stage"),
}
# The markup enrichment finds in a post (MentionEnrichment.features' keys).
FEATURE_LABELS = {
    "emoticons": N_("Emoticons"),
    "hashtags": N_("Topics (#…#)"),
    "mentions": N_("Mentioned accounts (@)"),
    "urls": N_("Links"),
}


def _labels() -> dict[str, Any]:
    return {
        "feature_labels": FEATURE_LABELS,
        "sentiment_labels": SENTIMENT_LABELS,
        "kind_labels": SOURCE_KIND_LABELS,
        "stage_labels": STAGE_LABELS,
        "relation_labels": OFFICIAL_RELATION_LABELS,
    }


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(
        request,
        f"listen/{template}",
        {"section": SECTION, **_labels(), **context},
        status_code=status,
    )


def _back(slug: str, path: str = "") -> RedirectResponse:
    return RedirectResponse(f"/w/{slug}/listen{path}", status_code=303)


# --- Tracked official accounts -----------------------------------------------------------


def _accounts(
    request: Request, db: Session, membership: Membership, error: str = "", status: int = 200
) -> Response:
    return _page(
        request,
        "accounts.html",
        {
            "accounts": service.list_tracked(db, workspace_id=membership.workspace_id),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
        },
        status,
    )


@router.get("/w/{slug}/listen/accounts")
def accounts_page(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's own and competitors' official accounts (they set the source kind)."""
    return _accounts(request, db, membership)


@router.post("/w/{slug}/listen/accounts")
async def add_account(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Track an official account."""
    form = await request.form()
    try:
        service.track_account(
            db,
            workspace_id=membership.workspace_id,
            platform=str(form.get("platform", "weibo")),
            external_id=str(form.get("external_id", "")),
            name=str(form.get("name", "")),
            relation=str(form.get("relation", "")),
        )
    except UserError as exc:
        db.rollback()
        return _accounts(request, db, membership, exc.translated(i18n.gettext), 400)
    db.commit()
    return _back(slug, "/accounts")


@router.post("/w/{slug}/listen/accounts/{account_id}/delete")
def remove_account(slug: str, account_id: int, db: Db, membership: Writer) -> Response:
    """Stop tracking an official account."""
    service.untrack_account(db, workspace_id=membership.workspace_id, account_id=account_id)
    db.commit()
    return _back(slug, "/accounts")


# --- Mentions -----------------------------------------------------------------------------


def _day(value: str, zone: ZoneInfo, *, end: bool = False) -> datetime | None:
    found = fields.day_or_none(value)  # a filter ignores a day it cannot use
    if found is None:
        return None
    day = datetime.combine(found, time(), tzinfo=zone)
    return (day + timedelta(days=1) if end else day).astimezone(UTC)


def _int(value: str | None) -> int | None:
    return parse_id(value)


@router.get("/w/{slug}/listen/mentions")
def mentions_page(request: Request, db: Db, membership: Member) -> Response:
    """The mentions, newest first, with filters and pages."""
    query = request.query_params
    zone = ZoneInfo(membership.workspace.timezone)
    filters = service.MentionFilters(
        text=query.get("q", ""),
        platform=query.get("platform", ""),
        sentiment=query.get("sentiment", ""),
        source_kind=query.get("kind", ""),
        stage=query.get("stage", ""),
        source_id=_int(query.get("source")),
        author_id=_int(query.get("author")),
        since=_day(query.get("from", ""), zone),
        until=_day(query.get("to", ""), zone, end=True),
    )
    page = service.list_mentions(
        db, workspace_id=membership.workspace_id, filters=filters, page=_int(query.get("page")) or 1
    )
    kept = {key: value for key, value in query.items() if key != "page" and value}
    sources = intake.list_sources(db, workspace_id=membership.workspace_id)
    return _page(
        request,
        "mentions.html",
        {
            "page": page,
            "query": dict(query),
            "base_query": urlencode(kept),
            "sources": sources,
            "platforms": sorted({source.platform for source in sources} | {"weibo"}),
            "detail_kept_from": detail_kept_from(
                db, workspace_id=membership.workspace_id, kind=RETAINED
            ),
        },
    )


@router.get("/w/{slug}/listen/mentions/{mention_id}")
def mention_page(request: Request, mention_id: int, db: Db, membership: Member) -> Response:
    """One mention: its text, author, metrics, enrichment and the raw record as imported."""
    mention = service.get_mention(db, workspace_id=membership.workspace_id, mention_id=mention_id)
    return _page(
        request,
        "mention.html",
        {
            "mention": mention,
            "related": service.related_mentions(db, mention=mention),
            "raw": json.dumps(mention.raw, ensure_ascii=False, indent=2, default=str),
        },
    )
