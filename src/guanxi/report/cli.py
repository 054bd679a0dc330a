"""The report command: ``guanxi report run``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from guanxi.accounts import service as accounts
from guanxi.core import i18n
from guanxi.core.console import err_console, fail, sessions
from guanxi.core.db import session_scope, utcnow
from guanxi.core.errors import UserError
from guanxi.core.settings import get_settings
from guanxi.report import service
from guanxi.report.build import ReportSpec, build_report
from guanxi.report.models import ReportFormat
from guanxi.report.periods import ReportPeriod, compared_days, report_period, today_in
from guanxi.report.templates import get_template

report_app = typer.Typer(help="Reports: make a report as a file.", no_args_is_help=True)

LANGUAGES = {"en": "en", "zh_Hans": "zh_Hans", "zh-CN": "zh_Hans", "zh": "zh_Hans"}


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} must be a date as YYYY-MM-DD, not {text!r}") from None


def _template_report(
    key: str,
    *,
    first: date | None,
    last: date | None,
    today: date,
    language: str,
    campaign: int | None,
) -> tuple[ReportSpec, ReportPeriod]:
    """What template ``key`` shows, for ``first`` to ``last`` (else its own period)."""
    chosen = get_template(key)
    if first is not None and last is not None:
        if last < first:
            raise fail("--to comes before --from; swap them")
        period = ReportPeriod(first, last, *compared_days(first, last, chosen.comparison))
    elif chosen.needs_campaign:
        raise fail("a campaign wrap-up needs --from and --to")
    else:
        period = report_period(chosen.period_kind, chosen.comparison, today=today)
    title = i18n.get_translations(language).gettext(chosen.title)
    return ReportSpec(title, chosen.section_keys, campaign_id=campaign), period


@report_app.command("run")
def run(
    workspace: Annotated[str, typer.Option(help="The workspace's slug.")],
    output: Annotated[Path, typer.Option(help="The file to write.")],
    definition: Annotated[
        int | None, typer.Option(help="A saved report's number (see the reports page).")
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="A template instead: weekly, monthly or campaign.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day YYYY-MM-DD; default the report's.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day YYYY-MM-DD; default the report's.")
    ] = None,
    report_format: Annotated[
        str, typer.Option("--format", help="html, pdf, pptx or xlsx.")
    ] = "html",
    language: Annotated[str, typer.Option(help="en or zh_Hans (zh-CN).")] = "en",
    campaign: Annotated[int | None, typer.Option(help="The campaign of a wrap-up.")] = None,
) -> None:
    """Make a report (a saved one, or one from a template) and write it to --output."""
    settings = get_settings()
    i18n.set_language(settings.default_language)
    if (definition is None) == (template is None):
        raise fail("give either --definition ID or --template NAME")
    try:
        chosen_format = ReportFormat(report_format)
    except ValueError:
        raise fail("--format must be html, pdf, pptx or xlsx") from None
    if language not in LANGUAGES:
        raise fail("--language must be en or zh_Hans")
    first, last = _day(start, "--from"), _day(end, "--to")
    if (first is None) != (last is None):
        raise fail("give both --from and --to, or neither")
    now = utcnow()
    try:
        with session_scope(sessions()) as db:
            target = accounts.get_workspace_by_slug(db, slug=workspace)
            if target is None:
                raise fail(f"no workspace {workspace}; see `guanxi workspace create`")
            if definition is not None:
                saved = service.get_definition(db, workspace=target, definition_id=definition)
                if first is not None and last is not None:
                    period = service.chosen_period(saved, start=first, end=last)
                else:
                    period = service.definition_period(saved, workspace=target, now=now)
                spec = ReportSpec.of(saved)
            else:
                spec, period = _template_report(
                    template or "",
                    first=first,
                    last=last,
                    today=today_in(target.timezone, now),
                    language=LANGUAGES[language],
                    campaign=campaign,
                )
            document = build_report(db, workspace=target, spec=spec, period=period, now=now)
            content = service.render(
                document, report_format=chosen_format, language=LANGUAGES[language]
            )
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from exc
    output.write_bytes(content)
    err_console.print(
        f"wrote {output} ({len(content):,} bytes): {len(document.sections)} sections, "
        f"{period.start.isoformat()} to {period.end.isoformat()}"
    )


def register(app: typer.Typer) -> None:
    """Add ``guanxi report`` to ``app``."""
    app.add_typer(report_app, name="report")
