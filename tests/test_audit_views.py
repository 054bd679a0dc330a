"""The audit log as people read it: actions named in their language, what changed as
"key: before → after" in the characters it was written in (no JSON, no \\u escapes)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.accounts.service import record_audit
from guanxi.team.audit import ACTION_LABELS, changes, readable
from tests.test_accounts import post

SOURCE = Path(__file__).resolve().parent.parent / "src" / "guanxi"
LITERAL_ACTION = re.compile(r"""action=(?:"([a-z_.]+)"|([A-Z_]+_ACTION))""")
CONSTANT = re.compile(r"""^([A-Z_]+_ACTION) = "([a-z_.]+)"$""", re.MULTILINE)


def recorded_actions() -> set[str]:
    """Every audit action written as a literal or a named constant in the product's code."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts or "sandbox" in path.parts or "devtools" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "record_audit" not in text and "_ACTION" not in text:
            continue
        constants = dict(CONSTANT.findall(text))
        for literal, constant in LITERAL_ACTION.findall(text):
            found.add(literal or constants.get(constant, constant))
        found.update(
            value
            for condition in re.findall(r'action="([a-z_.]+)" if .* else "([a-z_.]+)"', text)
            for value in condition
        )
    return found - {"status", "prepare"}  # keyword arguments of other calls named "action"


def test_every_recorded_action_has_a_name() -> None:
    actions = recorded_actions()
    assert {"membership.set", "user.sign_in_failed", "sensitive_words.seed"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_values_read_as_written() -> None:
    assert readable("哈哈") == "哈哈"
    assert readable(["普罗旺斯", 2]) == '["普罗旺斯", 2]'
    assert readable(None) == "—"
    assert changes({"role": "editor"}, {"role": "manager"})[0].before == "editor"
    assert changes(None, {"name": "Li"})[0].before == ""


def test_the_owner_reads_named_actions_and_chinese_values(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    """Given an audited change of a person's name to Chinese, then the settings page's log
    names the action in Chinese for a Chinese reader and shows the name, not \\u escapes."""
    client, membership = signed_in
    record_audit(
        db,
        actor=membership.user,
        action="inbox.person.update",
        entity_type="person",
        entity_id=1,
        workspace=membership.workspace,
        before={"remark": "old"},
        after={"remark": "哈哈葡萄酒爱好者"},
    )
    db.commit()
    post(client, "/language", {"language": "zh_Hans", "next": "/"})

    page = client.get("/w/acme/settings").text
    log = page[page.index('id="audit"') :]
    assert "\\u54c8" not in log
    assert "<strong>remark</strong>: old → 哈哈葡萄酒爱好者" in log
    assert "联系人已修改" in log
    assert "inbox.person.update" in log  # kept in the tooltip for whoever searches the code
