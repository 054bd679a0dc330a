"""Assignment rules: who gets new items, round robin over a team, by platform or topic word.

Rules run in order; the first one whose platform and topic fit an unassigned item assigns
it to the next member in its rotation (the turn is stored on the rule, so the rotation
continues across batches and workers).
"""

from __future__ import annotations

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
    assigned = 0
    if not rules:
        return assigned
    for index, row in enumerate(rows):
        if index in skip or row.get("assignee_id") is not None:
            continue
        for rule in rules:
            if rule.assignee_ids and _fits(rule, platform=row["platform"], text=row["text"]):
                turn = rule.next_index % len(rule.assignee_ids)
                row["assignee_id"] = int(rule.assignee_ids[turn])
                rule.next_index = turn + 1
                assigned += 1
                break
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
    chosen: list[dict[str, int]] = []
    for item in items:
        if item.assignee_id is not None:
            continue
        for rule in rules:
            if rule.assignee_ids and rule_fits(rule, item):
                turn = rule.next_index % len(rule.assignee_ids)
                assignee = int(rule.assignee_ids[turn])
                if assign is not None:
                    assign(item, assignee)
                else:
                    chosen.append({"row_id": item.id, "assignee": assignee})
                    set_committed_value(item, "assignee_id", assignee)
                rule.next_index = turn + 1
                break
    if chosen:
        # One executemany instead of an ORM update per item: ingest assigns in bulk.
        table = cast(Table, InboxItem.__table__)
        db.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(assignee_id=bindparam("assignee")),
            chosen,
        )


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
