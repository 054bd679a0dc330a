"""The audit log as people read it: each action named in their language, and what changed
as "key: before → after" lines in the text as written (Chinese stays Chinese)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from guanxi.accounts.models import AuditEvent
from guanxi.core.errors import N_

# Every action the product records (tests/test_audit_views.py fails on one left out, found
# in the code; actions built from a state or a subject are written out).
ACTION_LABELS: dict[str, str] = {
    "api_token.create": N_("API token created"),
    "inbox.person.remark": N_("Remark on a person set"),
    "team_chat_robot.add": N_("Team chat robot added"),
    "team_chat_robot.remove": N_("Team chat robot removed"),
    "api_token.revoke": N_("API token revoked"),
    "campaign.create": N_("Campaign created"),
    "campaign.delete": N_("Campaign deleted"),
    "campaign.update": N_("Campaign changed"),
    "channel.connect": N_("Account connected"),
    "channel.disconnect": N_("Account disconnected"),
    "channel.needs_reconnect": N_("Account needs reconnecting"),
    "check.override": N_("Check warning overridden"),
    "custom_metric.create": N_("Custom metric created"),
    "custom_metric.delete": N_("Custom metric deleted"),
    "inbox.assign": N_("Inbox items assigned"),
    "inbox.status": N_("Inbox items' status changed"),
    "inbox.tag": N_("Inbox items tagged"),
    "inbox.untag": N_("Inbox items' tag removed"),
    "inbox.reply.approve": N_("Reply approved"),
    "inbox.reply.reject": N_("Reply rejected"),
    "inbox.assignment_rule.create": N_("Assignment rule created"),
    "inbox.assignment_rule.delete": N_("Assignment rule deleted"),
    "inbox.debate.create": N_("Debate created"),
    "inbox.moderation.reverse": N_("Moderation undone"),
    "inbox.moderation_rule.create": N_("Moderation rule created"),
    "inbox.moderation_rule.delete": N_("Moderation rule deleted"),
    "inbox.moderation_rule.disable": N_("Moderation rule switched off"),
    "inbox.moderation_rule.enable": N_("Moderation rule switched on"),
    "inbox.person.merge": N_("People merged"),
    "inbox.person.update": N_("Person changed"),
    "inbox.reply.request_approval": N_("Reply sent for approval"),
    "inbox.reply_approval.update": N_("Reply approval decided"),
    "market_campaign.create": N_("Market campaign created"),
    "market_campaign.delete": N_("Market campaign deleted"),
    "market_campaign.update": N_("Market campaign changed"),
    "media.upload": N_("Media uploaded"),
    "membership.remove": N_("Member removed"),
    "membership.set": N_("Member added or role changed"),
    "plan.create": N_("Plan saved"),
    "retention.change": N_("Data retention changed"),
    "retention.prune": N_("Old raw data deleted by retention"),
    "post.add_channels": N_("Accounts added to a post"),
    "post.comment": N_("Post commented"),
    "post.create": N_("Post created"),
    "post.review_link": N_("Review link created"),
    "post.update": N_("Post changed"),
    "variant.posted_by_hand": N_("Posted by hand"),
    "variant.reschedule": N_("Post rescheduled"),
    "publishing_policy.update": N_("Publishing policy changed"),
    "report.brand.colours": N_("Report colours changed"),
    "report.brand.colours.remove": N_("Report colours set back to the defaults"),
    "report.brand.logo": N_("Report logo uploaded"),
    "report.brand.logo.remove": N_("Report logo removed"),
    "report.brand.template": N_("Report PowerPoint template uploaded"),
    "report.brand.template.remove": N_("Report PowerPoint template removed"),
    "report.create": N_("Report created"),
    "report.delete": N_("Report deleted"),
    "report.schedule": N_("Report schedule added"),
    "report.schedule_change": N_("Report schedule changed"),
    "report.schedule_pause": N_("Report schedule paused"),
    "report.schedule_resume": N_("Report schedule resumed"),
    "report.share": N_("Report share link made"),
    "report.unschedule": N_("Report schedule deleted"),
    "report.unshare": N_("Report share link withdrawn"),
    "report.update": N_("Report changed"),
    "sensitive_word.add": N_("Word added to the list"),
    "sensitive_word.remove": N_("Word removed from the list"),
    "sensitive_words.import": N_("Word list imported"),
    "sensitive_words.seed": N_("Default word list added"),
    "target.draft": N_("Post variant back to draft"),
    "target.in_review": N_("Post variant sent for approval"),
    "target.approved": N_("Post variant approved"),
    "target.scheduled": N_("Post variant scheduled"),
    "target.publishing": N_("Post variant publishing"),
    "target.processing": N_("Post variant being processed by the platform"),
    "target.published": N_("Post variant published"),
    "target.pending_review": N_("Post variant under the platform's review"),
    "target.failed": N_("Post variant failed"),
    "target.needs_attention": N_("Post variant needs attention"),
    "user.create": N_("User created"),
    "user.language": N_("Language changed"),
    "user.password_change": N_("Password changed"),
    "user.profile": N_("Personal settings changed"),
    "user.sign_in": N_("Signed in"),
    "user.sign_in_failed": N_("Sign-in failed"),
    "user.sign_out_everywhere": N_("Signed out everywhere"),
    "user.sign_in_password": N_("Password right, code asked"),
    "user.password_reset_requested": N_("Password reset link asked for"),
    "user.password_reset_issued": N_("Password reset link made"),
    "user.password_reset": N_("Password set through a reset link"),
    "user.two_factor_on": N_("Two-factor sign-in turned on"),
    "user.two_factor_off": N_("Two-factor sign-in turned off"),
    "workspace.require_two_factor": N_("Two-factor sign-in requirement changed"),
    "variant.approve": N_("Post variant approved"),
    "variant.reject": N_("Post variant rejected"),
    "variant.update": N_("Variant changed"),
    "workspace.create": N_("Workspace created"),
}


@dataclass(frozen=True)
class Change:
    """One field of an audited change."""

    key: str
    before: str
    after: str


@dataclass(frozen=True)
class ShownEvent:
    """An audit event as the log shows it."""

    event: AuditEvent
    action: str
    changes: tuple[Change, ...]


def readable(value: Any) -> str:
    """A stored value as text: strings as they are, anything else as JSON in the characters
    it was written in (no \\u escapes); "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[Change, ...]:
    """Each key of ``before`` or ``after``, in order, with both of its values."""
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return tuple(
        Change(key, readable(before.get(key)) if before else "", readable(after.get(key)))
        for key in keys
    )


def shown(event: AuditEvent, gettext: Callable[[str], str]) -> ShownEvent:
    """``event`` with its action named in the language of ``gettext``."""
    label = ACTION_LABELS.get(event.action)
    return ShownEvent(
        event=event,
        action=gettext(label) if label else event.action,
        changes=changes(event.before, event.after),
    )
