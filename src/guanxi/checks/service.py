"""The check pipeline, the per-workspace compiled word list, and overrides of warnings.

``run_checks`` is the one entry point: the composer calls it inline (the preview endpoint)
and again before a variant can be scheduled. Its signature is a contract: keyword-only,
stable, documented in docs/checks.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Workspace
from guanxi.channels.models import ChannelAudience
from guanxi.checks.findings import Check, CheckSubject, Finding
from guanxi.checks.hashtags import check_hashtags
from guanxi.checks.language import check_language
from guanxi.checks.links import check_links
from guanxi.checks.models import SensitiveWord
from guanxi.checks.script import check_script
from guanxi.checks.words import CompiledWordList, WordEntry, WordSeverity, check_words
from guanxi.connectors.base import HashtagStyle, Severity
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError

# The pipeline, in the order findings are shown; each step is replaceable.
CHECKS: tuple[Check, ...] = (
    check_words,
    check_links,
    check_script,
    check_language,
    check_hashtags,
)
OVERRIDE_REASON_MAX_LENGTH = 500


def run_checks(
    *,
    text: str,
    title: str = "",
    digest: str = "",
    link: str = "",
    audience: ChannelAudience,
    hashtag_style: HashtagStyle,
    words: CompiledWordList,
    checks: Sequence[Check] = CHECKS,
) -> list[Finding]:
    """Every finding of every check over one variant, errors first.

    A pure function (no database, no network): ``words`` comes from ``compiled_words``.
    """
    subject = CheckSubject(
        text=text,
        title=title,
        digest=digest,
        link=link,
        audience=audience,
        hashtag_style=hashtag_style,
        words=words,
    )
    findings = [finding for check in checks for finding in check(subject)]
    # Stable sort: errors first, then the pipeline's order.
    return sorted(findings, key=lambda finding: finding.severity is not Severity.ERROR)


def without_covered(findings: Sequence[Finding], families: Iterable[str]) -> list[Finding]:
    """``findings`` less those of a family a platform rule already reports (its ``covers``):
    ``hashtags.not_supported`` says nothing more once Weibo's own rule refuses the topic."""
    covered = set(families)
    return [finding for finding in findings if finding.code.split(".", 1)[0] not in covered]


def blocking_findings(
    findings: Sequence[Finding], overrides: Sequence[dict[str, object]]
) -> list[Finding]:
    """The findings that still stop a variant: every error, and warnings not overridden."""
    overridden = {str(override.get("code")) for override in overrides}
    return [
        finding
        for finding in findings
        if finding.severity is Severity.ERROR or finding.code not in overridden
    ]


# --- The compiled word list, cached per workspace and list version -----------------------

_CACHE_SIZE = 64
_cache: OrderedDict[tuple[int, tuple[int, int, str]], CompiledWordList] = OrderedDict()
_cache_lock = threading.Lock()


def word_list_version(db: Session, *, workspace: Workspace) -> tuple[int, int, str]:
    """A version of the workspace's list that changes with every change to it.

    Rows are only ever added or deleted (a changed term is replaced by a new row, see
    ``guanxi.checks.wordlist``), so the row count, the highest id and the newest creation
    time identify the list; the time covers SQLite, which reuses the id of a deleted last row.
    """
    count, highest, newest = db.execute(
        select(
            func.count(SensitiveWord.id),
            func.coalesce(func.max(SensitiveWord.id), 0),
            func.max(SensitiveWord.created_at),
        ).where(SensitiveWord.workspace_id == workspace.id)
    ).one()
    return int(count), int(highest), str(newest)


def compiled_words(db: Session, *, workspace: Workspace) -> CompiledWordList:
    """The workspace's word list as an automaton, built once per version of the list."""
    key = (workspace.id, word_list_version(db, workspace=workspace))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    rows = db.execute(
        select(SensitiveWord.term, SensitiveWord.category, SensitiveWord.severity).where(
            SensitiveWord.workspace_id == workspace.id
        )
    ).all()
    compiled = CompiledWordList(
        WordEntry(term=term, category=category, severity=WordSeverity(severity))
        for term, category, severity in rows
    )
    with _cache_lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


# --- Overrides ---------------------------------------------------------------------------


class OverrideNotAllowedError(ConflictError):
    """An error finding, which only a change of the text can clear."""


def accept_warning(
    checks: Sequence[Mapping[str, Any]], *, code: str, reason: str, actor: Membership
) -> dict[str, object]:
    """The override that lets warning ``code`` among ``checks`` (a variant's last stored
    findings) pass: ``actor`` accepts it for ``reason``, now.

    UserError for a missing or overlong reason, NotFoundError when ``code`` is not among the
    findings, OverrideNotAllowedError for an error (only a change of the text clears it).
    """
    reason = reason.strip()
    if not reason:
        raise UserError(N_("Give a reason for overriding the warning; it is recorded."))
    if len(reason) > OVERRIDE_REASON_MAX_LENGTH:
        raise UserError(
            N_("Shorten the reason to {limit} characters."), limit=OVERRIDE_REASON_MAX_LENGTH
        )
    finding = next((Finding.from_dict(item) for item in checks if item.get("code") == code), None)
    if finding is None:
        raise NotFoundError(
            N_("The check “{code}” did not fire on this variant. Run the checks again."),
            code=code,
        )
    if finding.severity is Severity.ERROR:
        raise OverrideNotAllowedError(
            N_(
                "“{code}” is an error, which cannot be overridden: change the text until the "
                "check passes."
            ),
            code=code,
        )
    return {
        "code": code,
        "reason": reason,
        "by_id": actor.user_id,
        "by": actor.user.email,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
