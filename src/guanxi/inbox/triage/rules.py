"""Moderation rules as the team edits them: validated, ordered, audited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import list_members, record_audit, require
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.inbox.people.models import PersonKind
from guanxi.inbox.triage.models import ModerationRule
from guanxi.inbox.triage.moderation import ActionKind
from guanxi.inbox.triage.screening import ConditionKind

MAX_CONDITIONS = 10


class InvalidRuleError(UserError):
    """A moderation rule that cannot work."""


def list_rules(db: Session, *, workspace_id: int) -> list[ModerationRule]:
    """The workspace's moderation rules in the order they run."""
    return list(
        db.scalars(
            select(ModerationRule)
            .where(ModerationRule.workspace_id == workspace_id)
            .order_by(ModerationRule.position, ModerationRule.id)
        )
    )


def create_rule(
    db: Session,
    *,
    membership: Membership,
    name: str,
    conditions: Sequence[tuple[str, str]],
    actions: Sequence[tuple[str, str]],
    match_all: bool = False,
) -> ModerationRule:
    """Add a rule at the end; conditions and actions are (kind, value) pairs."""
    require(membership, Permission.WRITE)
    if not name.strip():
        raise InvalidRuleError(N_("Give the rule a name."))
    checked_conditions = []
    for kind, value in conditions:
        if kind not in set(ConditionKind):
            raise InvalidRuleError(N_("Unknown condition “{kind}”."), kind=kind)
        if kind == ConditionKind.AUTHOR_KIND and value not in {str(k) for k in PersonKind if k}:
            raise InvalidRuleError(N_("Choose the author kind the condition looks for."))
        checked_conditions.append({"kind": kind, "value": value.strip()[:100]})
    if not checked_conditions or len(checked_conditions) > MAX_CONDITIONS:
        raise InvalidRuleError(
            N_("A rule needs between 1 and {limit} conditions."), limit=MAX_CONDITIONS
        )
    writers = {
        m.user_id
        for m in list_members(db, workspace=membership.workspace)
        if m.can(Permission.WRITE)
    }
    checked_actions = []
    for kind, value in actions:
        if kind not in set(ActionKind):
            raise InvalidRuleError(N_("Unknown action “{kind}”."), kind=kind)
        if kind == ActionKind.ASSIGN and parse_id(value) not in writers:
            raise InvalidRuleError(
                N_("Assign to a member who can reply (an editor, manager or owner).")
            )
        if kind == ActionKind.SET_PRIORITY and value not in {"0", "1", "2", "3"}:
            raise InvalidRuleError(N_("Priority is 0 (low) to 3 (urgent)."))
        if kind == ActionKind.AUTO_REPLY and not value.strip():
            raise InvalidRuleError(N_("Write the text of the automatic reply."))
        checked_actions.append({"kind": kind, "value": value.strip()[:200]})
    if not checked_actions:
        raise InvalidRuleError(N_("A rule needs at least one action."))
    rule = ModerationRule(
        workspace_id=membership.workspace_id,
        name=name.strip()[:120],
        conditions=checked_conditions,
        actions=checked_actions,
        match_all=match_all,
        position=len(list_rules(db, workspace_id=membership.workspace_id)),
    )
    db.add(rule)
    db.flush()
    record_audit(
        db,
        actor=membership.user,
        action="inbox.moderation_rule.create",
        entity_type="moderation_rule",
        entity_id=rule.id,
        workspace=membership.workspace,
        after={
            "name": rule.name,
            "conditions": checked_conditions,
            "actions": checked_actions,
            "match_all": match_all,
        },
    )
    return rule


def set_rule_enabled(
    db: Session, *, membership: Membership, rule_id: int, enabled: bool
) -> ModerationRule:
    """Turn a rule on or off."""
    require(membership, Permission.WRITE)
    rule = _get(db, membership, rule_id)
    rule.enabled = enabled
    record_audit(
        db,
        actor=membership.user,
        action="inbox.moderation_rule.enable" if enabled else "inbox.moderation_rule.disable",
        entity_type="moderation_rule",
        entity_id=rule.id,
        workspace=membership.workspace,
    )
    db.flush()
    return rule


def delete_rule(db: Session, *, membership: Membership, rule_id: int) -> None:
    """Remove a rule (its log of past actions stays)."""
    require(membership, Permission.WRITE)
    rule = _get(db, membership, rule_id)
    record_audit(
        db,
        actor=membership.user,
        action="inbox.moderation_rule.delete",
        entity_type="moderation_rule",
        entity_id=rule.id,
        workspace=membership.workspace,
        before={"name": rule.name, "conditions": rule.conditions, "actions": rule.actions},
    )
    db.delete(rule)
    db.flush()


def _get(db: Session, membership: Membership, rule_id: int) -> ModerationRule:
    rule = db.get(ModerationRule, rule_id)
    if rule is None or rule.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This rule does not exist (any more). Reload the page."))
    return rule
