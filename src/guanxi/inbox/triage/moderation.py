"""Moderation rules: conditions on new inbox items and the actions they trigger.

``moderate_new`` runs after ingest inserts items. For each batch it indexes the items for
search, links their authors to the relationship book, fills sentiment and priority where
an item has none yet (ingest gives them before the insert: ``score_rows``), runs the
workspace's enabled rules in order (conditions in ``guanxi.inbox.triage.screening``) and finally
the assignment rules for items still unassigned. Every automatic action is logged
in ``ModerationAction`` with the state before it, audited, and can be reversed by a person
unless the platform cannot undo it (a hidden or deleted comment, a sent reply).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from guanxi.accounts.models import AuditEvent, Membership, Permission, Workspace
from guanxi.accounts.service import EMAIL_MAX_LENGTH, record_audit, require
from guanxi.checks.service import compiled_words
from guanxi.checks.words import CompiledWordList
from guanxi.core.bounds import parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.inbox.bulk import insert_rows, insert_with_ids, plan_for_pages, update_by_id
from guanxi.inbox.items import search
from guanxi.inbox.items.models import InboxItem, ItemTag
from guanxi.inbox.items.service import ensure_tag
from guanxi.inbox.people.service import link_authors
from guanxi.inbox.replies.saved import render_saved_reply
from guanxi.inbox.triage.assignment import assign_by_rules, rotate_rows
from guanxi.inbox.triage.models import ActionState, ModerationAction, ModerationRule, SlaPolicy
from guanxi.inbox.triage.platform import ConnectorActions
from guanxi.inbox.triage.screening import (
    ConditionKind,
    Facts,
    Screen,
    conditions_met,
    parse_conditions,
)
from guanxi.inbox.triage.sentiment import fast_scorer, sentiments
from guanxi.inbox.triage.sla import DEFAULT_CRISIS_WORDS, MAX_PRIORITY, priority_for, priority_level

FLAG_TAG = "flagged"
# Tags the rules set, named in the reader's language wherever tags are shown.
SYSTEM_TAG_LABELS = {FLAG_TAG: N_("flagged")}


class ActionKind(StrEnum):
    """What a moderation rule can do."""

    HIDE = "hide"  # hide or delete on the platform, where its API allows it
    FLAG = "flag"  # tag the item "flagged"
    ASSIGN = "assign"  # value: a user id
    SET_PRIORITY = "set_priority"  # value: 0..3
    AUTO_REPLY = "auto_reply"  # value: the reply text (variables allowed)


ACTION_LABELS: dict[ActionKind, str] = {
    ActionKind.HIDE: N_("Hide on the platform"),
    ActionKind.FLAG: N_("Flag"),
    ActionKind.ASSIGN: N_("Assign to"),
    ActionKind.SET_PRIORITY: N_("Set priority"),
    ActionKind.AUTO_REPLY: N_("Reply automatically"),
}
IRREVERSIBLE = frozenset({ActionKind.HIDE, ActionKind.AUTO_REPLY})


class PlatformActions(Protocol):
    """What moderation asks of the platform; raises ``UserError`` (or a connector error)
    with the platform's reason when it refuses."""

    def hide(self, db: Session, *, item: InboxItem) -> None:
        """Hide or delete ``item`` on its platform."""

    def reply(self, db: Session, *, item: InboxItem, text: str) -> None:
        """Send ``text`` as a reply to ``item``."""


def connector_actions() -> PlatformActions:
    """The real platform actions (through the channel's connector)."""
    return ConnectorActions()


SentimentOf = Callable[[Sequence[str]], list[str]]


def default_sentiments(texts: Sequence[str]) -> list[str]:
    """Sentiment per text: the NLP pipeline, else a lexicon fallback."""
    return sentiments(texts)


class _Pending:
    """The batch's changes to its items, written together: one UPDATE per item for what
    sentiment, priority, the rules and the assignment rules changed (instead of one per
    step), and one INSERT for the flags. Written before any platform call too, because
    one may commit (an auto-reply does), and it must commit what came before it."""

    def __init__(self) -> None:
        self._changed: dict[int, tuple[InboxItem, set[str]]] = {}
        self._tags: list[dict[str, int]] = []

    def set(self, item: InboxItem, name: str, value: Any) -> None:
        """Give ``item`` column ``name`` = ``value`` (written by ``write``; nothing to write
        when it has that value already)."""
        if getattr(item, name) == value:
            return
        set_committed_value(item, name, value)
        self._changed.setdefault(item.id, (item, set()))[1].add(name)

    def tag(self, item: InboxItem, tag_id: int) -> None:
        """Put tag ``tag_id`` on ``item`` (written by ``write``)."""
        self._tags.append({"item_id": item.id, "tag_id": tag_id})

    def write(self, db: Session) -> None:
        """Write what is pending: only the columns each item changed, so nothing else
        that happened to a row in the meantime is overwritten."""
        table = cast(Table, InboxItem.__table__)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item, names in self._changed.values():
            columns = tuple(sorted(names))
            row = {"id": item.id} | {name: getattr(item, name) for name in columns}
            by_columns.setdefault(columns, []).append(row)
        for rows in by_columns.values():
            update_by_id(db, table, rows)
        insert_rows(db, cast(Table, ItemTag.__table__), self._tags)
        self._changed.clear()
        self._tags.clear()


@dataclass
class _Done:
    """One action a rule took (a row of ``ModerationAction`` once recorded)."""

    item_id: int
    rule_id: int
    action: ActionKind
    value: str
    reasons: list[str]
    before: dict[str, Any] = field(default_factory=dict)
    state: ActionState = ActionState.APPLIED
    error: str = ""


@dataclass
class _Context:
    workspace: Workspace
    platform: PlatformActions
    tag_id: Callable[[str], int]
    pending: _Pending
    before_platform: Callable[[], None] | None = None
    flagged: set[int] = field(default_factory=set)  # items already carrying the flag tag
    done: list[_Done] = field(default_factory=list)


def moderate_new(
    db: Session,
    *,
    workspace_id: int,
    items: Sequence[InboxItem],
    platform: PlatformActions | None = None,
    sentiment_of: SentimentOf | None = None,
    before_platform: Callable[[], None] | None = None,
) -> None:
    """Apply the workspace's moderation rules to freshly ingested ``items``.

    Items without a sentiment get it and their priority first; the ones ingest stored have
    both (``score_rows``). ``before_platform`` is called before each call to the platform
    (ingest commits there).
    """
    if not items:
        return
    workspace = db.get(Workspace, workspace_id)
    if workspace is None:
        return
    db.flush()
    plan_for_pages(db)
    search.index_items(db, items=items)
    people = link_authors(db, workspace_id=workspace_id, items=items)
    pending = _Pending()
    unscored = [item for item in items if item.sentiment is None]
    if unscored:
        _sentiment_and_priority(
            db,
            workspace_id=workspace_id,
            items=unscored,
            sentiment_of=sentiment_of,
            pending=pending,
        )
    rules = _rules(db, workspace_id=workspace_id)
    if rules:
        screen = Screen(words=_words(db, workspace=workspace))
        context = _Context(
            workspace=workspace,
            platform=platform or connector_actions(),
            tag_id=_tag_lookup(db, workspace_id),
            pending=pending,
            before_platform=before_platform,
        )
        parsed = [(rule, parse_conditions(rule.conditions)) for rule in rules]
        for item in items:
            platform_name, author = item.platform, item.author_external_id
            facts = Facts(
                text=item.text,
                author_key=f"{platform_name}:{author}",
                sentiment=item.sentiment,
                author_kind=str(people.get((platform_name, author), "")),
            )
            screen.remember(facts)
            for rule, conditions in parsed:
                reasons = conditions_met(
                    screen, conditions=conditions, match_all=rule.match_all, facts=facts
                )
                if reasons:
                    _apply(db, context, rule, item, reasons)
        _record(db, context)
    assign_by_rules(
        db,
        workspace_id=workspace_id,
        items=items,
        assign=lambda item, user_id: pending.set(item, "assignee_id", user_id),
    )
    pending.write(db)
    db.flush()


def _sentiment_and_priority(
    db: Session,
    *,
    workspace_id: int,
    items: Sequence[InboxItem],
    sentiment_of: SentimentOf | None,
    pending: _Pending,
) -> None:
    """Fill the sentiment and priority of ``items`` (none has a sentiment yet)."""
    analysed = (sentiment_of or default_sentiments)([item.text for item in items])
    scorer = None if sentiment_of else fast_scorer()
    crisis = crisis_words(db, workspace_id=workspace_id)
    for item, sentiment in zip(items, analysed, strict=True):
        level = priority_for(
            text=item.text,
            sentiment=sentiment,
            followers=item.author_followers,
            verified_type=item.author_verified_type,
            crisis_words=crisis,
        ).level
        pending.set(item, "sentiment", sentiment)
        pending.set(item, "sentiment_scorer", scorer)
        pending.set(item, "priority", max(item.priority or 0, level))


def crisis_words(db: Session, *, workspace_id: int) -> tuple[str, ...]:
    """The words that make an item a crisis (priority +2) in the workspace."""
    policy = db.get(SlaPolicy, workspace_id)
    return tuple(policy.crisis_words) if policy and policy.crisis_words else DEFAULT_CRISIS_WORDS


def score_rows(
    db: Session,
    *,
    workspace_id: int,
    rows: Sequence[dict[str, Any]],
    sentiment_of: SentimentOf | None = None,
) -> None:
    """Give item rows about to be inserted (``ingest.store_items``) their sentiment and
    priority: the values ``moderate_new`` would give them, so that it need not."""
    if not rows:
        return
    found = (sentiment_of or default_sentiments)([row["text"] for row in rows])
    # A caller's own sentiment_of (tests, benchmarks) is no model the inbox can name.
    scorer = None if sentiment_of else fast_scorer()
    crisis = crisis_words(db, workspace_id=workspace_id)
    for row, sentiment in zip(rows, found, strict=True):
        row["sentiment"] = sentiment
        row["sentiment_scorer"] = scorer
        row["priority"] = max(
            row.get("priority") or 0,
            priority_level(
                text=row["text"],
                sentiment=sentiment,
                followers=row["author_followers"],
                verified_type=row["author_verified_type"],
                crisis_words=crisis,
            ),
        )


def assign_rows(db: Session, *, workspace_id: int, rows: Sequence[dict[str, Any]]) -> int | None:
    """Give new item rows about to be inserted (scored by ``score_rows``) the assignee the
    assignment rules will give them, so that each row is written once; how many got one.

    Assignment rules take the items no moderation rule assigns: those are found here by
    the same conditions over the same facts, in the same order (repeats included). When a
    rule that assigns looks at the author's kind, nothing is done here (None: the
    relationship book is filled later) and ``moderate_new`` assigns.
    """
    assigning = [
        (rule, parse_conditions(rule.conditions))
        for rule in _rules(db, workspace_id=workspace_id)
        if any(_assigns(spec) for spec in rule.actions)
    ]
    if any(kind is ConditionKind.AUTHOR_KIND for _, parsed in assigning for kind, _ in parsed):
        return None
    taken: set[int] = set()
    workspace = db.get(Workspace, workspace_id) if assigning else None
    if workspace is not None:
        screen = Screen(words=_words(db, workspace=workspace))
        for index, row in enumerate(rows):
            facts = Facts(
                text=row["text"],
                author_key=f"{row['platform']}:{row['author_external_id']}",
                sentiment=row["sentiment"],
            )
            screen.remember(facts)
            if any(
                conditions_met(screen, conditions=parsed, match_all=rule.match_all, facts=facts)
                for rule, parsed in assigning
            ):
                taken.add(index)
    return rotate_rows(db, workspace_id=workspace_id, rows=rows, skip=taken)


def _assigns(spec: dict[str, Any]) -> bool:
    """Whether a rule's action ``spec`` sets an assignee (as ``_perform`` does)."""
    return str(spec.get("kind", "")) == ActionKind.ASSIGN and str(spec.get("value", "")).isdigit()


def _rules(db: Session, *, workspace_id: int) -> list[ModerationRule]:
    """The workspace's enabled moderation rules in the order they run."""
    return list(
        db.scalars(
            select(ModerationRule)
            .where(ModerationRule.workspace_id == workspace_id, ModerationRule.enabled.is_(True))
            .order_by(ModerationRule.position, ModerationRule.id)
        )
    )


# The word list's version is a query; ingest checks it at most every few seconds, so a
# change to the list applies to items that arrive WORDS_RECHECK_S later at the latest.
WORDS_RECHECK_S = 5.0
_words_checked: dict[tuple[str, int, str], tuple[float, CompiledWordList]] = {}


def _words(db: Session, *, workspace: Workspace) -> CompiledWordList:
    # The creation time tells a workspace from a later one that reuses its id (tests).
    key = (search.database_key(db), workspace.id, workspace.created_at.isoformat())
    checked = _words_checked.get(key)
    now = time.monotonic()
    if checked is not None and now - checked[0] < WORDS_RECHECK_S:
        return checked[1]
    compiled = compiled_words(db, workspace=workspace)
    _words_checked[key] = (now, compiled)
    return compiled


def _tag_lookup(db: Session, workspace_id: int) -> Callable[[str], int]:
    cache: dict[str, int] = {}

    def tag_id(name: str) -> int:
        if name not in cache:
            cache[name] = ensure_tag(db, workspace_id=workspace_id, name=name).id
        return cache[name]

    return tag_id


def _apply(
    db: Session, context: _Context, rule: ModerationRule, item: InboxItem, reasons: list[str]
) -> None:
    for spec in rule.actions:
        try:
            kind = ActionKind(str(spec.get("kind", "")))
        except ValueError:
            continue
        value = str(spec.get("value", ""))
        done = _Done(
            item_id=item.id, rule_id=rule.id, action=kind, value=value[:200], reasons=reasons[:20]
        )
        try:
            done.before = _perform(db, context, kind, value, item)
        except UserError as error:
            done.state = ActionState.FAILED
            done.error = error.translated(lambda message: message)
        except Exception as error:
            done.state = ActionState.FAILED
            done.error = str(error)[:1000]
        context.done.append(done)


def _record(db: Session, context: _Context) -> None:
    """Store the batch's actions, then audit each (the audit names the action): two
    multi-row INSERTs rather than an ORM object and a flush per row."""
    if not context.done:
        return
    actions = cast(Table, ModerationAction.__table__)
    action_rows = [
        {
            "workspace_id": context.workspace.id,
            "item_id": done.item_id,
            "rule_id": done.rule_id,
            "action": str(done.action),
            "value": done.value,
            "reasons": done.reasons,
            "before": done.before,
            "state": str(done.state),
            "error": done.error,
        }
        for done in context.done
    ]
    action_ids = insert_with_ids(db, actions, action_rows)
    # The rows record_audit would add, one per action.
    audit_rows = [
        {
            "workspace_id": context.workspace.id,
            "actor_id": None,
            "actor_label": f"moderation rule #{done.rule_id}"[:EMAIL_MAX_LENGTH],
            "action": f"inbox.moderation.{done.action}",
            "entity_type": "inbox_item",
            "entity_id": str(done.item_id),
            "before": done.before,
            "after": {
                "value": done.value,
                "state": done.state,
                "reasons": done.reasons,
                "action_id": action_id,
                "error": done.error,
            },
            "ip": None,
        }
        for done, action_id in zip(context.done, action_ids, strict=True)
    ]
    insert_rows(db, cast(Table, AuditEvent.__table__), audit_rows)


def _perform(
    db: Session, context: _Context, kind: ActionKind, value: str, item: InboxItem
) -> dict[str, Any]:
    """Do one action; returns the state before it."""
    pending = context.pending
    if kind is ActionKind.HIDE:
        before = {"hidden_on_platform": item.hidden_on_platform}
        if not item.hidden_on_platform:
            _before_platform(db, context)
            context.platform.hide(db, item=item)
            pending.set(item, "hidden_on_platform", True)
        return before
    if kind is ActionKind.FLAG:
        tag_id = context.tag_id(FLAG_TAG)
        had: bool = item.id in context.flagged
        if not had:
            pending.tag(item, tag_id)
            context.flagged.add(item.id)
        flag_before: dict[str, Any] = {"flagged": had, "tag_id": tag_id}
        return flag_before
    if kind is ActionKind.ASSIGN:
        assign_before: dict[str, Any] = {"assignee_id": item.assignee_id}
        if (assignee_id := parse_id(value)) is not None:
            pending.set(item, "assignee_id", assignee_id)
        return assign_before
    if kind is ActionKind.SET_PRIORITY:
        priority_before: dict[str, Any] = {"priority": item.priority}
        if value.isdecimal():
            pending.set(item, "priority", min(int(value), MAX_PRIORITY))
        return priority_before
    _before_platform(db, context)
    context.platform.reply(db, item=item, text=render_saved_reply(value, item=item))
    return {}


def _before_platform(db: Session, context: _Context) -> None:
    """Write what is pending (a platform call may commit), then let the caller act."""
    context.pending.write(db)
    if context.before_platform is not None:
        context.before_platform()


class IrreversibleActionError(ConflictError):
    """The platform cannot undo this action."""


def reverse_action(
    db: Session, *, membership: Membership, action_id: int, ip: str | None = None
) -> ModerationAction:
    """Undo an automatic action on the item (needs Permission.WRITE); audited."""
    require(membership, Permission.WRITE)
    action = db.get(ModerationAction, action_id)
    if action is None or action.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This moderation action does not exist (any more)."))
    if action.state != ActionState.APPLIED:
        raise ConflictError(N_("Only an applied action can be reversed; this one is not."))
    kind = ActionKind(action.action)
    if kind in IRREVERSIBLE:
        raise IrreversibleActionError(
            N_(
                "The platform cannot undo this: a hidden comment or a sent reply stays as it "
                "is. Ask the author to post again, or follow up with another reply."
            )
        )
    item = db.get(InboxItem, action.item_id)
    if item is None:
        raise NotFoundError(N_("This moderation action does not exist (any more)."))
    before = action.before
    if kind is ActionKind.FLAG and not before.get("flagged"):
        db.execute(
            delete(ItemTag).where(
                ItemTag.item_id == item.id, ItemTag.tag_id == int(before.get("tag_id", 0))
            )
        )
    elif kind is ActionKind.ASSIGN:
        item.assignee_id = before.get("assignee_id")
    elif kind is ActionKind.SET_PRIORITY:
        item.priority = int(before.get("priority", 0))
    action.state = ActionState.REVERSED
    action.reversed_at = utcnow()
    action.reversed_by_id = membership.user_id
    record_audit(
        db,
        actor=membership.user,
        action="inbox.moderation.reverse",
        entity_type="inbox_item",
        entity_id=item.id,
        workspace=membership.workspace,
        before={"action_id": action.id, "action": action.action},
        after=before,
        ip=ip,
    )
    db.flush()
    return action


def list_actions(db: Session, *, workspace_id: int, limit: int = 200) -> list[ModerationAction]:
    """The workspace's newest automatic actions first."""
    return list(
        db.scalars(
            select(ModerationAction)
            .where(ModerationAction.workspace_id == workspace_id)
            .order_by(ModerationAction.id.desc())
            .limit(limit)
        )
    )
