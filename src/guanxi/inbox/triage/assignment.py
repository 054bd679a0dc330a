"""Assignment rules: who gets new items, round robin over a team, by platform or topic word.

Rules run in order; the first one whose platform and topic fit an unassigned item assigns
it to the next member in its rotation (the turn is stored on the rule, so the rotation
continues across batches and workers; a batch takes its turns in one update of the rule's
row, so two workers ingesting at once never hand out the same turn).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence, Set
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import list_members, record_audit, require
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.triage.models import AssignmentRule


class InvalidAssignmentRuleError(UserError):
    """An assignment rule that cannot work."""


def list_assignment_rules(db: Session, *, workspace_id: int) -> list[AssignmentRule]:
    """The workspace's assignment rules in the order they run."""
    return list(
        db.scalars(
            select(AssignmentRule)
            .where(AssignmentRule.workspace_id == workspace_id)
            .order_by(AssignmentRule.position, AssignmentRule.id)
        )
    )


def rule_fits(rule: AssignmentRule, item: InboxItem) -> bool:
    """Whether ``rule`` applies to ``item`` (its platform and topic word)."""
    return _fits(rule, platform=item.platform, text=item.text)


def _fits(rule: AssignmentRule, *, platform: str, text: str) -> bool:
    if rule.platform and rule.platform != platform:
        return False
    return not rule.topic or rule.topic.lower() in text.lower()


def rotate_rows(
    db: Session, *, workspace_id: int, rows: Sequence[dict[str, Any]], skip: Set[int] = frozenset()
) -> int:
    """``assign_by_rules`` for item rows about to be inserted (``rows[i]["assignee_id"]``),
    in order, leaving out the rows at the indexes ``skip``; how many rows it assigned."""
    rules = [rule for rule in list_assignment_rules(db, workspace_id=workspace_id) if rule.enabled]
    if not rules:
        return 0
    open_rows = [
        row
        for index, row in enumerate(rows)
        if index not in skip and row.get("assignee_id") is None
    ]
    picks = [_first_fitting(rules, platform=row["platform"], text=row["text"]) for row in open_rows]
    assigned = 0
    for row, assignee in zip(open_rows, _rotation(db, picks), strict=True):
        if assignee is not None:
            row["assignee_id"] = assignee
            assigned += 1
    return assigned


def assign_by_rules(
    db: Session,
    *,
    workspace_id: int,
    items: Sequence[InboxItem],
    assign: Callable[[InboxItem, int], None] | None = None,
) -> None:
    """Assign the unassigned ``items`` by the workspace's enabled rules.

    Each choice goes to ``assign`` (item, user id) when given (moderation writes it with
    the batch's other changes); by default the batch's choices are one UPDATE.
    """
    rules = [rule for rule in list_assignment_rules(db, workspace_id=workspace_id) if rule.enabled]
    if not rules:
        return
    open_items = [item for item in items if item.assignee_id is None]
    picks = [_first_fitting(rules, platform=item.platform, text=item.text) for item in open_items]
    chosen: list[dict[str, int]] = []
    for item, assignee in zip(open_items, _rotation(db, picks), strict=True):
        if assignee is None:
            continue
        if assign is not None:
            assign(item, assignee)
        else:
            chosen.append({"row_id": item.id, "assignee": assignee})
            set_committed_value(item, "assignee_id", assignee)
    if chosen:
        # One executemany instead of an ORM update per item: ingest assigns in bulk.
        table = cast(Table, InboxItem.__table__)
        db.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(assignee_id=bindparam("assignee")),
            chosen,
        )


def _first_fitting(
    rules: Sequence[AssignmentRule], *, platform: str, text: str
) -> AssignmentRule | None:
    """The first rule with a team whose platform and topic fit, if any."""
    return next(
        (rule for rule in rules if rule.assignee_ids and _fits(rule, platform=platform, text=text)),
        None,
    )


def _rotation(db: Session, picks: Sequence[AssignmentRule | None]) -> list[int | None]:
    """The assignee for each pick, in order, from turns each rule hands this batch alone.

    Each rule's turns are taken in one UPDATE that moves ``next_index`` on by the batch's
    count and returns where it ended: two workers ingesting at once each get turns of their
    own, in the order their updates reach the row (the second waits for the first's
    commit), instead of both reading the same turn and giving one person both batches'
    first items.
    """
    wanted = Counter(rule.id for rule in picks if rule is not None)
    turn: dict[int, int] = {}
    for rule in {pick.id: pick for pick in picks if pick is not None}.values():
        team = len(rule.assignee_ids)
        moved = db.scalar(
            update(AssignmentRule)
            .where(AssignmentRule.id == rule.id)
            .values(next_index=(AssignmentRule.next_index + wanted[rule.id]) % team)
            .returning(AssignmentRule.next_index)
            .execution_options(synchronize_session=False)
        )
        after = int(moved or 0)
        set_committed_value(rule, "next_index", after)
        turn[rule.id] = (after - wanted[rule.id]) % team
    assignees: list[int | None] = []
    for pick in picks:
        if pick is None:
            assignees.append(None)
            continue
        assignees.append(int(pick.assignee_ids[turn[pick.id] % len(pick.assignee_ids)]))
        turn[pick.id] += 1
    return assignees


def create_assignment_rule(
    db: Session,
    *,
    membership: Membership,
    name: str,
    platform: str,
    topic: str,
    assignee_ids: Sequence[int],
) -> AssignmentRule:
    """Add a rule at the end of the list; assignees must be members who can write."""
    require(membership, Permission.WRITE)
    if not name.strip():
        raise InvalidAssignmentRuleError(N_("Give the rule a name."))
    writers = {
        member.user_id
        for member in list_members(db, workspace=membership.workspace)
        if member.can(Permission.WRITE)
    }
    chosen = [user_id for user_id in dict.fromkeys(assignee_ids) if user_id in writers]
    if not chosen:
        raise InvalidAssignmentRuleError(
            N_("Choose at least one member who can reply (an editor, manager or owner).")
        )
    existing = list_assignment_rules(db, workspace_id=membership.workspace_id)
    rule = AssignmentRule(
        workspace_id=membership.workspace_id,
        name=name.strip()[:120],
        platform=platform.strip()[:40],
        topic=topic.strip()[:100],
        assignee_ids=chosen,
        position=len(existing),
    )
    db.add(rule)
    db.flush()
    record_audit(
        db,
        actor=membership.user,
        action="inbox.assignment_rule.create",
        entity_type="assignment_rule",
        entity_id=rule.id,
        workspace=membership.workspace,
        after={
            "name": rule.name,
            "platform": rule.platform,
            "topic": rule.topic,
            "assignees": chosen,
        },
    )
    return rule


def delete_assignment_rule(db: Session, *, membership: Membership, rule_id: int) -> None:
    """Remove an assignment rule."""
    require(membership, Permission.WRITE)
    rule = db.get(AssignmentRule, rule_id)
    if rule is None or rule.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This rule does not exist (any more). Reload the page."))
    record_audit(
        db,
        actor=membership.user,
        action="inbox.assignment_rule.delete",
        entity_type="assignment_rule",
        entity_id=rule.id,
        workspace=membership.workspace,
        before={"name": rule.name},
    )
    db.delete(rule)
    db.flush()
