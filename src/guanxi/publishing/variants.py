"""Variants: a post's text as one channel publishes it, edited for its platform and checked
against the platform's rules (the connector's ``validate``) and the Chinese-first checks
(``guanxi.checks``). Errors block scheduling; warnings need a manager's recorded override.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from guanxi.accounts.models import Membership, Permission, User, Workspace
from guanxi.accounts.service import record_audit, require
from guanxi.channels.models import Channel, ChannelAudience
from guanxi.checks.findings import Finding
from guanxi.checks.service import accept_warning, compiled_words, run_checks, without_covered
from guanxi.connectors.base import (
    Connector,
    HashtagStyle,
    RuleViolation,
    Severity,
    VariantDraft,
)
from guanxi.connectors.registry import OFFLINE_HTTP, UnknownConnectorError, connector_for
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.settings import Settings
from guanxi.publishing import link_tracking
from guanxi.publishing.media import get_media, media_file
from guanxi.publishing.models import (
    DIGEST_MAX_LENGTH,
    LINK_MAX_LENGTH,
    VARIANT_TITLE_MAX_LENGTH,
    MediaAsset,
    Variant,
    VariantState,
)
from guanxi.publishing.policy import get_policy
from guanxi.publishing.service import set_state

# The variant fields a platform may ask for beyond the text; which ones a channel shows is
# learned from its connector's validate messages (no platform names here).
OPTIONAL_FIELDS = ("title", "digest", "link", "cover")


@dataclass(frozen=True)
class LinkChoices:
    """What the author chose for a variant's addresses: tracking on or off, and of the
    addresses the editor listed (as typed), the ones ticked to be tracked."""

    track: bool = True
    listed: tuple[str, ...] = ()
    ticked: tuple[str, ...] = ()


EDITABLE_STATES = frozenset(
    {VariantState.DRAFT, VariantState.IN_REVIEW, VariantState.APPROVED, VariantState.SCHEDULED}
)


def content_digest(variant: Variant) -> str:
    """A digest of what the variant says and shows: an approval is valid for this only."""
    return digest_of_content(
        text=variant.text,
        title=variant.title,
        digest=variant.digest,
        link=variant.link,
        media_ids=variant.media_ids,
        cover_media_id=variant.cover_media_id,
    )


def digest_of_content(
    *,
    text: str,
    title: str,
    digest: str,
    link: str,
    media_ids: list[int] | None,
    cover_media_id: int | None,
) -> str:
    """``content_digest`` of a variant's columns, read without the variant's object."""
    content = {
        "text": text,
        "title": title,
        "digest": digest,
        "link": link,
        "media_ids": list(media_ids or []),
        "cover_media_id": cover_media_id,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def library_ids(db: Session, workspace: Workspace, values: Iterable[str]) -> list[int]:
    """The ids of library files of ``workspace`` named in a form; UserError for another."""
    ids: list[int] = []
    for value in dict.fromkeys(values):
        media_id = parse_id(value)
        if media_id is None:
            raise UserError(N_("That file is not in the media library. Reload the page."))
        try:
            ids.append(get_media(db, workspace=workspace, media_id=media_id).id)
        except NotFoundError as exc:
            raise UserError(N_("That file is not in the media library. Reload the page.")) from exc
    return ids


def update_variant(
    db: Session,
    *,
    variant: Variant,
    actor: User,
    text: str,
    title: str = "",
    digest: str = "",
    link: str = "",
    media_ids: Iterable[str] = (),
    cover_media_id: str = "",
    links: LinkChoices | None = None,
    settings: Settings | None = None,
) -> bool:
    """Save an edited variant; True when the edit made its approvals stale. With
    ``settings``, its web addresses become tracked links as its choices (``links``, when
    given: the author's) say (``publishing.link_tracking``).

    An approved variant goes back to review (or to draft when no approval is needed); so
    does a scheduled one, which also leaves the queue (its time is kept, to schedule it
    again). One being published, or live, cannot be edited.
    """
    if variant.state not in EDITABLE_STATES:
        raise UserError(
            N_("This variant is being published or is live, so it cannot be edited any more.")
        )
    workspace = db.get(Workspace, variant.workspace_id)
    assert workspace is not None
    if not text.strip():
        raise UserError(N_("A variant needs its text. Write it, or copy it from the master."))
    if len(title) > VARIANT_TITLE_MAX_LENGTH or len(digest) > DIGEST_MAX_LENGTH:
        raise UserError(
            N_("A title may have up to {title} characters and a summary up to {digest}."),
            title=VARIANT_TITLE_MAX_LENGTH,
            digest=DIGEST_MAX_LENGTH,
        )
    link = link.strip()
    if link and (len(link) > LINK_MAX_LENGTH or not link.startswith(("http://", "https://"))):
        raise UserError(N_("A link starts with http:// or https://. Correct it or leave it empty."))
    ids = library_ids(db, workspace, media_ids)
    cover = library_ids(db, workspace, [cover_media_id])[0] if cover_media_id.strip() else None
    if links is not None:
        link_tracking.apply_choices(
            variant, track=links.track, listed=links.listed, ticked=links.ticked
        )
    if settings is not None:
        channel = db.get(Channel, variant.channel_id)
        assert channel is not None
        text = link_tracking.tracked_text(
            db,
            variant=variant,
            channel=channel,
            connector=load_connector(channel, settings),
            text=text.strip(),
            actor_id=actor.id,
        )
    scheduled = variant.state == VariantState.SCHEDULED
    try:
        with db.no_autoflush:
            stale = _apply_edit(
                db,
                variant=variant,
                workspace=workspace,
                actor=actor,
                values=(text, title, digest, link, ids, cover),
            )
        if scheduled:
            db.flush()  # the dispatcher may have claimed it meanwhile (the row's version)
    except StaleDataError as exc:
        raise UserError(
            N_(
                "The engine started publishing this variant a moment ago, so your edit "
                "was not saved. Reload the page to see where it stands."
            )
        ) from exc
    return stale


def _apply_edit(
    db: Session,
    *,
    variant: Variant,
    workspace: Workspace,
    actor: User,
    values: tuple[str, str, str, str, list[int], int | None],
) -> bool:
    text, title, digest, link, ids, cover = values
    before = content_digest(variant)
    variant.text, variant.title, variant.link = text.strip(), title.strip(), link
    variant.digest = digest.strip()
    variant.media_ids = ids
    variant.cover_media_id = cover
    after = content_digest(variant)
    if after == before:
        return False
    if actor.id not in (variant.content_author_ids or []):
        # Whoever changes the content is one of its authors: they cannot approve it.
        variant.content_author_ids = [*(variant.content_author_ids or []), actor.id]
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="variant.update",
        entity_type="variant",
        entity_id=variant.id,
        before={"digest": before},
        after={"digest": after},
    )
    if variant.state == VariantState.SCHEDULED:
        steps = get_policy(db, workspace=workspace).approval_steps
        new_state = VariantState.IN_REVIEW if steps else VariantState.DRAFT
        reason = N_(
            "Edited while scheduled: it left the queue. Have it approved and schedule it again."
        )
        variant.next_attempt_at = None
        set_state(db, variant=variant, state=new_state, reason=reason, actor=actor)
        return True
    if variant.state == VariantState.APPROVED:
        steps = get_policy(db, workspace=workspace).approval_steps
        new_state = VariantState.IN_REVIEW if steps else VariantState.DRAFT
        reason = N_("Edited after approval: the earlier approval no longer counts.")
        set_state(db, variant=variant, state=new_state, reason=reason, actor=actor)
        return True
    if variant.state == VariantState.IN_REVIEW:
        variant.state_reason = N_("Edited during review: earlier approvals no longer count.")
        return True
    return False


def variant_draft(db: Session, variant: Variant, data_dir: Path) -> VariantDraft:
    """The variant as its connector checks and publishes it."""
    media = [db.get(MediaAsset, media_id) for media_id in variant.media_ids or []]
    cover = db.get(MediaAsset, variant.cover_media_id) if variant.cover_media_id else None
    return VariantDraft(
        text=variant.text,
        title=variant.title,
        digest=variant.digest,
        link=variant.link,
        media=tuple(media_file(asset, data_dir) for asset in media if asset is not None),
        cover=media_file(cover, data_dir) if cover is not None else None,
    )


def load_connector(channel: Channel, settings: Settings) -> Connector | None:
    """The channel's connector, to check drafts with, or None when it is not installed."""
    try:
        return connector_for(channel, settings=settings, http=OFFLINE_HTTP)
    except UnknownConnectorError:
        return None


def variant_fields(connector: Connector | None) -> list[str]:
    """The optional fields a channel's platform uses, as its connector declares them."""
    if connector is None:
        return []
    return [name for name in OPTIONAL_FIELDS if name in connector.variant_fields]


def _platform_findings(
    connector: Connector | None, channel: Channel, draft: VariantDraft
) -> tuple[list[dict[str, Any]], set[str]]:
    """The platform's findings, and the check families its rules already cover."""
    if connector is None:
        missing = Finding(
            code="connector.missing",
            severity=Severity.ERROR,
            message=N_("The {connector} connector is not installed: this account cannot publish."),
            params={"connector": channel.connector},
        )
        return [{"source": "platform", **missing.to_dict()}], set()
    violations = connector.validate(draft)
    return (
        [{"source": "platform", **_from_violation(v).to_dict()} for v in violations],
        {v.covers for v in violations if v.covers},
    )


def _from_violation(violation: RuleViolation) -> Finding:
    return Finding(
        code=violation.code,
        severity=Severity(violation.severity),
        message=violation.message,
        params=dict(violation.params),
    )


def check_draft(
    db: Session, *, channel: Channel, draft: VariantDraft, settings: Settings
) -> list[dict[str, Any]]:
    """Every finding on a draft for ``channel``: its platform's rules, then the Chinese-first
    checks that do not repeat one of them; as stored in ``Variant.checks`` (``source``
    says which)."""
    connector = load_connector(channel, settings)
    workspace = db.get(Workspace, channel.workspace_id)
    assert workspace is not None
    findings = run_checks(
        text=draft.text,
        title=draft.title,
        digest=draft.digest,
        link=draft.link,
        audience=ChannelAudience(channel.audience),
        hashtag_style=connector.hashtag_style if connector else HashtagStyle.NONE,
        words=compiled_words(db, workspace=workspace),
    )
    platform, covered = _platform_findings(connector, channel, draft)
    return [
        *platform,
        *(
            {"source": "checks", **finding.to_dict()}
            for finding in without_covered(findings, covered)
        ),
    ]


def check_variant(
    db: Session, *, variant: Variant, settings: Settings, channel: Channel | None = None
) -> list[dict[str, Any]]:
    """Check a saved variant and store the results on it (``Variant.checks``); ``channel``
    is its account when the caller has it at hand."""
    channel = channel or db.get_one(Channel, variant.channel_id)
    draft = variant_draft(db, variant, settings.data_dir)
    variant.checks = check_draft(db, channel=channel, draft=draft, settings=settings)
    return variant.checks


def unresolved(variant: Variant) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored errors, and the stored warnings no manager has overridden."""
    overridden = {override["code"] for override in variant.overrides or []}
    errors = [f for f in variant.checks or [] if f["severity"] == Severity.ERROR.value]
    warnings = [
        f
        for f in variant.checks or []
        if f["severity"] == Severity.WARNING.value and f["code"] not in overridden
    ]
    return errors, warnings


def override_warning(
    db: Session, *, variant: Variant, membership: Membership, code: str, reason: str
) -> None:
    """A manager lets a warning of the variant's last checks pass, with a reason recorded
    with their name (``Variant.overrides``; audited). Needs Permission.APPROVE; see
    ``checks.service.accept_warning`` for what can be overridden."""
    require(membership, Permission.APPROVE)
    if variant.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This post does not exist in this workspace."))
    override = accept_warning(variant.checks, code=code, reason=reason, actor=membership)
    # A new list: SQLAlchemy does not see changes made inside a JSON value.
    variant.overrides = [*variant.overrides, override]
    record_audit(
        db,
        actor=membership.user,
        action="check.override",
        entity_type="variant",
        entity_id=variant.id,
        workspace=membership.workspace,
        after={"code": code, "reason": override["reason"]},
    )
    db.flush()
