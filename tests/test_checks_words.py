"""Sensitive-word screening: the automaton (overlaps, both scripts, 10,000 terms) and the
workspace's list (seeding, import with bad rows, merging, caching by version, audit)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Role
from guanxi.channels.models import ChannelAudience
from guanxi.checks import service, wordlist
from guanxi.checks.models import SensitiveWord
from guanxi.checks.words import CompiledWordList, WordEntry, WordSeverity, default_entries
from guanxi.connectors.base import HashtagStyle, Severity
from guanxi.core.errors import PermissionDeniedError
from guanxi.devtools.bench.checks import bench_words, generated_entries
from tests.conftest import UserFactory, WorkspaceFactory, forget_default_words

BLOCK, WARN = WordSeverity.BLOCK, WordSeverity.WARN


def words(*terms: tuple[str, WordSeverity]) -> CompiledWordList:
    return CompiledWordList(WordEntry(term, "test", severity) for term, severity in terms)


def test_overlapping_terms_keep_the_longest_match() -> None:
    """Given 最, 最佳 and 佳品, the text 最佳品 hits 最佳 and 佳品 (which only overlap),
    not 最 on top of 最佳; a lone 最 elsewhere is still found."""
    compiled = words(("最", WARN), ("最佳", BLOCK), ("佳品", WARN))
    text = "这是最佳品，最好。"
    hits = [(hit.entry.term, hit.start) for hit in compiled.hits(text)]
    assert hits == [("最佳", 2), ("佳品", 3), ("最", 6)]


def test_a_stricter_short_term_inside_a_longer_one_still_shows() -> None:
    """A blocked term inside a word only to avoid is not hidden by it."""
    compiled = words(("最", BLOCK), ("最佳", WARN))
    hits = [hit.entry.term for hit in compiled.hits("最佳")]
    assert hits == ["最", "最佳"]


def test_the_findings_do_not_flag_a_shorter_term_twice() -> None:
    """The default list has both 最 and 最佳: a text with 最佳 gets one finding."""
    compiled = words(("最", WARN), ("最佳", WARN))
    findings = service.run_checks(
        text="年度最佳",
        audience=ChannelAudience.MAINLAND,
        hashtag_style=HashtagStyle.DOUBLE_HASH,
        words=compiled,
    )
    assert [finding.code for finding in findings] == ["words.hit:最佳"]


def test_traditional_text_hits_simplified_terms_and_the_reverse() -> None:
    compiled = words(("顶级", BLOCK), ("國家級", BLOCK))
    text = "頂級品質，国家级认证"
    hits = [(hit.entry.term, text[hit.start : hit.end]) for hit in compiled.hits(text)]
    assert hits == [("顶级", "頂級"), ("國家級", "国家级")]


def test_latin_terms_match_in_any_case() -> None:
    compiled = words(("NO.1", BLOCK))
    text = "全网 No.1 的口碑"
    [hit] = compiled.hits(text)
    assert text[hit.start : hit.end] == "No.1"


def test_a_term_listed_in_both_scripts_is_one_term_and_the_stricter_severity_wins() -> None:
    compiled = words(("顶级", WARN), ("頂級", BLOCK))
    assert len(compiled) == 1
    [hit] = compiled.hits("顶级")
    assert hit.entry.severity is BLOCK


def test_block_terms_are_errors_and_warn_terms_warnings() -> None:
    compiled = words(("最佳", BLOCK), ("第一", WARN))
    findings = service.run_checks(
        text="我们是最佳的，第一次见面",
        audience=ChannelAudience.MAINLAND,
        hashtag_style=HashtagStyle.DOUBLE_HASH,
        words=compiled,
    )
    severities = {finding.code: finding.severity for finding in findings}
    assert severities == {"words.hit:最佳": Severity.ERROR, "words.hit:第一": Severity.WARNING}
    assert "Remove or rephrase it" in findings[0].translated(str)


def test_the_default_list_covers_the_advertising_law_absolute_terms() -> None:
    listed = {entry.term: entry.severity for entry in default_entries()}
    for term in ("最", "第一", "国家级", "极致", "顶级", "首个", "唯一", "最佳"):
        assert term in listed
    assert listed["最佳"] is BLOCK
    assert listed["最"] is WARN  # 最近 ("recently") is everywhere: only a warning


def test_ten_thousand_terms_compile_and_match_quickly() -> None:
    """Given 10,000 generated four-character terms and one planted in a long text, the
    automaton finds exactly that one, in both scripts, well within a second."""
    pool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    terms = [
        "".join(pool[(i // len(pool) ** k) % len(pool)] for k in range(3)) + "鑫"
        for i in range(10_000)
    ]
    assert len(set(terms)) == 10_000
    started = time.perf_counter()
    compiled = CompiledWordList(WordEntry(term, "bulk", WARN) for term in terms)
    built = time.perf_counter() - started
    text = "今天天气很好。" * 500 + terms[9_876] + "。" + "歡迎光臨" * 100
    started = time.perf_counter()
    hits = compiled.hits(text)
    matched = time.perf_counter() - started
    assert [hit.entry.term for hit in hits] == [terms[9_876]]
    assert len(compiled) == 10_000
    assert built < 5
    assert matched < 0.5


# --- The workspace's list ------------------------------------------------------------------


@pytest.fixture
def team(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> dict[str, Membership]:
    """Workspace acme with an owner, an editor and an analyst, and a list never seeded (as
    a workspace created before new ones got the default list)."""
    owner = make_user("owner@acme.example")
    editor = make_user("cm@acme.example")
    analyst = make_user("analyst@acme.example")
    workspace = make_workspace(
        "acme", owner=owner, members={editor: Role.EDITOR, analyst: Role.ANALYST}
    )
    forget_default_words(db, workspace)
    return {m.user.email.split("@")[0]: m for m in workspace.memberships}


def test_a_workspace_starts_with_the_default_list_once(
    db: Session, team: dict[str, Membership]
) -> None:
    workspace = team["owner"].workspace
    assert wordlist.ensure_default_words(db, workspace=workspace) is True
    assert wordlist.count_words(db, workspace=workspace) == len(default_entries())
    for row in wordlist.list_words(db, workspace=workspace):
        wordlist.remove_word(db, membership=team["owner"], word_id=row.id)
    db.commit()
    # Emptied on purpose: not seeded again.
    assert wordlist.ensure_default_words(db, workspace=workspace) is False
    assert wordlist.count_words(db, workspace=workspace) == 0


def test_import_keeps_good_rows_reports_bad_ones_and_merges_script_duplicates(
    db: Session, team: dict[str, Membership]
) -> None:
    content = "\n".join(
        [
            "term,category,severity",
            "顶级,absolute_terms,block",
            "頂級,absolute_terms,warn",  # the same term in Traditional: merged
            "限时抢购",  # a bare term: category empty, severity warn
            "稳赚,finance,maybe",  # bad severity
            ",empty,block",  # no term
            "a,b,c,d",  # too many columns
            "x" * 101,  # too long
        ]
    ).encode()
    report = wordlist.import_words(db, membership=team["cm"], content=content)
    db.commit()
    assert (report.added, report.merged) == (2, 1)
    assert [(row.line, row.message) for row in report.bad_rows] == [
        (5, "Unknown severity “{value}”: use “block” or “warn”."),
        (6, "Enter the term to screen for."),
        (7, "Too many columns: use term,category,severity."),
        (8, "Shorten the term to {limit} characters."),
    ]
    listed = {
        row.term: row.severity for row in wordlist.list_words(db, workspace=team["cm"].workspace)
    }
    assert listed == {"顶级": "block", "限时抢购": "warn"}
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "sensitive_words.import")
    ).one()
    assert event.after == {"added": 2, "replaced": 0, "unchanged": 0, "merged": 1, "bad_rows": 4}


def test_import_of_gb18030_files_works(db: Session, team: dict[str, Membership]) -> None:
    report = wordlist.import_words(db, membership=team["cm"], content="最便宜\n".encode("gb18030"))
    assert report.added == 1


def test_an_analyst_cannot_change_the_list(db: Session, team: dict[str, Membership]) -> None:
    with pytest.raises(PermissionDeniedError):
        wordlist.import_words(db, membership=team["analyst"], content=b"abc")
    entry = wordlist.parse_entry("abc", "", "warn")
    with pytest.raises(PermissionDeniedError):
        wordlist.add_word(db, membership=team["analyst"], entry=entry)


def test_the_automaton_is_cached_until_the_list_changes(
    db: Session, team: dict[str, Membership]
) -> None:
    """Given a compiled list, asking again returns the same automaton; adding a term, or
    changing a term's severity, builds a new one that sees the change."""
    membership = team["owner"]
    workspace = membership.workspace
    wordlist.add_word(db, membership=membership, entry=wordlist.parse_entry("秒杀", "", "warn"))
    db.commit()
    first = service.compiled_words(db, workspace=workspace)
    assert service.compiled_words(db, workspace=workspace) is first
    wordlist.add_word(db, membership=membership, entry=wordlist.parse_entry("秒殺", "", "block"))
    db.commit()
    second = service.compiled_words(db, workspace=workspace)
    assert second is not first
    [hit] = second.hits("限时秒杀")
    assert hit.entry.severity is BLOCK
    rows = db.scalars(select(SensitiveWord).where(SensitiveWord.workspace_id == workspace.id)).all()
    assert [row.term for row in rows] == ["秒殺"]
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.workspace_id == workspace.id))
    assert list(actions).count("sensitive_word.add") == 2


def test_export_can_be_imported_again(db: Session, team: dict[str, Membership]) -> None:
    membership = team["owner"]
    wordlist.ensure_default_words(db, workspace=membership.workspace)
    exported = wordlist.export_words(db, workspace=membership.workspace)
    assert exported.startswith("term,category,severity\n")
    report = wordlist.import_words(db, membership=membership, content=exported.encode())
    assert report.unchanged == len(default_entries())
    assert not report.bad_rows


def test_the_benchmark_measures_what_it_reports() -> None:
    """The benchmark's generated list has distinct terms, starts with the default list,
    and its hit count is what the automaton finds."""
    entries = generated_entries(2_000)
    assert len({entry.term for entry in entries}) == 2_000
    assert entries[: len(default_entries())] == list(default_entries())
    texts = ["这是最佳的选择，我们的时候到了", "今天天气很好"]
    result = bench_words(texts=texts, terms=2_000, rounds=2)
    compiled = CompiledWordList(entries)
    assert result.hits == sum(len(compiled.hits(text)) for text in texts)
    assert result.terms == 2_000
    assert result.lines()[-1].startswith("terms=2000 build_s=")
