"""The market pages: the country matrix, rank history, head-to-head, movers,
leaders, reach over time, tracked apps; campaigns have a module of their own
(``campaign_views``).

Every page reads one chart (dataset × store × chart × category) chosen by query
parameters, defaulting to the workspace's newest dataset and its first chart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.bounds import LIST_MAX_LENGTH
from guanxi.core.errors import N_, UserError
from guanxi.market import analysis, importers, service
from guanxi.market.fetchers import ParsedChart
from guanxi.market.models import CHART_LABELS, STORE_LABELS
from guanxi.market.presenting import (
    DEFAULT_TOP,
    NO_DATA,
    ChartChoice,
    campaign_markers,
    choose_chart,
    clamp_top,
    country_names,
    history_payload,
    matrix_payload,
    parse_day,
)
from guanxi.web.deps import Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import UPLOAD_FORM_OVERHEAD, QueryField, body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

DEFAULT_IMPORT_NAME = "Imported charts"
MAX_IMPORT_BYTES = 20_000_000


def chosen_chart(
    db: Db,
    membership: Member,
    dataset: int | None = None,
    store: QueryField = "",
    chart: QueryField = "",
    category: QueryField = "",
) -> ChartChoice | None:
    """The chart a page's query asks for (or the default one); None when there is no data."""
    return choose_chart(
        db, membership.workspace, dataset=dataset, store=store, chart=chart, category=category
    )


ChosenChart = Annotated[ChartChoice | None, Depends(chosen_chart)]


def _base_context(request: Request, choice: ChartChoice | None, page: str) -> dict[str, Any]:
    return {
        "section": "market",
        "page": page,
        "choice": choice,
        "store_labels": {s.value: label for s, label in STORE_LABELS.items()},
        "chart_labels": {c.value: label for c, label in CHART_LABELS.items()},
        "countries": country_names(getattr(request.state, "language", "en")),
        "no_data": NO_DATA,
    }


def _render_empty(request: Request, page: str) -> Response:
    return render(request, "market/empty.html", _base_context(request, None, page))


@router.get("/w/{slug}/market")
def matrix_page(
    request: Request,
    db: Db,
    membership: Member,
    choice: ChosenChart,
    day: QueryField = "",
    top: int = DEFAULT_TOP,
) -> Response:
    """The app × country matrix of one day: ranks in the top N, coloured, with moves."""
    if choice is None:
        return _render_empty(request, "matrix")
    top = clamp_top(top)
    shown = parse_day(day, choice.default_day())
    payload = matrix_payload(db, selection=choice.selection, day=shown, top=top)
    context = _base_context(request, choice, "matrix")
    context.update({"day": shown, "top": top, "matrix": payload})
    return render(request, "market/matrix.html", context)


@router.get("/w/{slug}/market/history")
def history_page(
    request: Request,
    db: Db,
    membership: Member,
    app: QueryField = "",
    dataset: int | None = None,
    store: QueryField = "",
    chart: QueryField = "",
    category: QueryField = "",
    country: Annotated[list[QueryField] | None, Query(max_length=LIST_MAX_LENGTH)] = None,
) -> Response:
    """An app's rank over time in several countries, with the campaigns marked."""
    workspace = membership.workspace
    choice = choose_chart(
        db, workspace, dataset=dataset, store=store, chart=chart, category=category
    )
    if choice is None:
        return _render_empty(request, "history")
    tracked = service.list_tracked_apps(db, workspace=workspace)
    # People pick an app by its name; a store id still works.
    found = service.find_app(db, workspace=workspace, dataset=choice.dataset, text=app)
    app_key = found[0] if found else (app.strip() or (tracked[0].app_key if tracked else ""))
    payload = history_payload(
        db,
        workspace=workspace,
        choice_selection=choice.selection,
        app_key=app_key,
        countries=country or [],
        focus=choice.default_day(),
    )
    context = _base_context(request, choice, "history")
    names = country_names(getattr(request.state, "language", "en"))
    for series in payload.chart["series"]:
        series["label"] = names.get(series["country"], series["country"])
    context.update(
        {
            "country_labels": names,
            "app_key": app_key,
            "app_text": found[1] if found else app.strip() or payload.app_name,
            "tracked": tracked,
            "history": payload,
        }
    )
    return render(request, "market/history.html", context)


@router.get("/w/{slug}/market/compare")
def compare_page(
    request: Request,
    db: Db,
    membership: Member,
    dataset: int | None = None,
    store: QueryField = "",
    chart: QueryField = "",
    category: QueryField = "",
    day: QueryField = "",
    top: int = DEFAULT_TOP,
) -> Response:
    """Head-to-head of the tracked apps on one day, country by country, and their reach
    (in how many countries each is in the top N) over time."""
    workspace = membership.workspace
    choice = choose_chart(
        db, workspace, dataset=dataset, store=store, chart=chart, category=category
    )
    if choice is None:
        return _render_empty(request, "compare")
    top = clamp_top(top)
    shown = parse_day(day, choice.default_day())
    tracked = service.list_tracked_apps(db, workspace=workspace)
    ranks = analysis.ranks_on(db, selection=choice.selection, day=shown) if shown else {}
    keys = [app.app_key for app in tracked]
    rows = []
    for country in sorted(ranks):
        cells = {key: ranks[country].get(key) for key in keys}
        charted = [rank for rank in cells.values() if rank is not None]
        rows.append((country, cells, min(charted) if charted else None))
    wins = {key: sum(1 for _c, cells, best in rows if best and cells[key] == best) for key in keys}
    reach = analysis.reach_over_time(db, selection=choice.selection, app_keys=keys, top=top)
    chart_data = {
        "series": [
            {
                "name": app.name,
                "color": app.color,
                "data": [[d.isoformat(), n] for d, n in reach.get(app.app_key, [])],
            }
            for app in tracked
        ],
        "markers": campaign_markers(
            db, workspace=workspace, app_keys=keys, selection=choice.selection
        ),
    }
    context = _base_context(request, choice, "compare")
    context.update(
        {
            "day": shown,
            "top": top,
            "tracked": tracked,
            "rows": rows,
            "wins": wins,
            "reach_data": chart_data,
        }
    )
    return render(request, "market/compare.html", context)


@router.get("/w/{slug}/market/movers")
def movers_page(
    request: Request,
    db: Db,
    membership: Member,
    choice: ChosenChart,
    start: QueryField = "",
    end: QueryField = "",
    top: int = DEFAULT_TOP,
) -> Response:
    """Risers, fallers, new entries and exits of the top N between two days."""
    if choice is None:
        return _render_empty(request, "movers")
    top = clamp_top(top)
    last = parse_day(end, choice.default_day())
    week_before = last - timedelta(days=7) if last else None
    first = parse_day(
        start,
        max(week_before, choice.first_day) if week_before and choice.first_day else week_before,
    )
    if first and last and first > last:
        first, last = last, first
    before = analysis.ranks_on(db, selection=choice.selection, day=first) if first else {}
    after = analysis.ranks_on(db, selection=choice.selection, day=last) if last else {}
    moves = analysis.movers_between(before, after, top=top)
    keys = {
        m.app_key
        for group in (moves.risers, moves.fallers, moves.entries, moves.exits)
        for m in group
    }
    context = _base_context(request, choice, "movers")
    names = {
        **analysis.names_on(db, selection=choice.selection, app_keys=keys, day=first),
        **analysis.names_on(db, selection=choice.selection, app_keys=keys, day=last),
    }
    context.update({"start": first, "end": last, "top": top, "moves": moves, "names": names})
    return render(request, "market/movers.html", context)


@router.get("/w/{slug}/market/leaders")
def leaders_page(
    request: Request,
    db: Db,
    membership: Member,
    choice: ChosenChart,
    day: QueryField = "",
) -> Response:
    """Each country's top three on one day, and how many countries each app leads."""
    if choice is None:
        return _render_empty(request, "leaders")
    shown = parse_day(day, choice.default_day())
    ranks = analysis.ranks_on(db, selection=choice.selection, day=shown, depth=3) if shown else {}
    podiums = analysis.leaders(ranks)
    counts = analysis.leader_counts(ranks)
    keys = {key for podium in podiums.values() for _rank, key in podium}
    context = _base_context(request, choice, "leaders")
    names = analysis.names_on(db, selection=choice.selection, app_keys=keys, day=shown)
    context.update({"day": shown, "podiums": podiums, "counts": counts, "names": names})
    return render(request, "market/leaders.html", context)


# --- Tracked apps ----------------------------------------------------------------------------


def _apps_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str | None = None,
    values: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    context = _base_context(request, None, "apps")
    datasets = service.visible_datasets(db, workspace=membership.workspace)
    context.update(
        {
            "tracked": service.list_tracked_apps(db, workspace=membership.workspace),
            "summaries": [service.summarize(db, dataset=d) for d in datasets],
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "values": values or {},
        }
    )
    return render(request, "market/apps.html", context, status_code=status_code)


@router.get("/w/{slug}/market/apps")
def apps_page(request: Request, db: Db, membership: Member) -> Response:
    """The tracked apps (with their alert thresholds) and the datasets this workspace reads."""
    return _apps_page(request, db, membership)


@router.post("/w/{slug}/market/apps")
def track_app(request: Request, db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Start tracking an app; a bad form comes back explained."""
    top = form_value(form, "alert_top_n").strip() or "10"
    try:
        service.track_app(
            db,
            workspace=membership.workspace,
            app_key=form_value(form, "app_key"),
            name=form_value(form, "name"),
            color=form_value(form, "color"),
            alert_top_n=int(top) if top.isdecimal() else -1,
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return _apps_page(
            request,
            db,
            membership,
            error=exc.translated(i18n.gettext),
            values=form,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/w/{membership.workspace.slug}/market/apps", status_code=303)


@router.post(
    "/w/{slug}/market/import", openapi_extra=body_limit(MAX_IMPORT_BYTES + UPLOAD_FORM_OVERHEAD)
)
async def import_file(request: Request, db: Db, membership: Writer) -> Response:
    """Import a chart file into a dataset of this workspace; a bad file imports nothing
    and comes back explained."""
    async with request.form() as form:
        upload = form.get("file")
        raw = await upload.read(MAX_IMPORT_BYTES + 1) if isinstance(upload, UploadFile) else b""
        filename = upload.filename or "" if isinstance(upload, UploadFile) else ""
        fields = {key: str(form.get(key) or "") for key in ("format", "dataset")}
    return await run_in_threadpool(
        _import_upload, request, db, membership, raw=raw, filename=filename, **fields
    )


def parse_upload(
    raw: bytes, *, filename: str, chosen: str
) -> tuple[importers.ImportFormat, list[ParsedChart]]:
    """The charts of an uploaded file, or a UserError saying what to fix."""
    if not raw:
        raise UserError(N_("Choose a chart file to import."))
    if len(raw) > MAX_IMPORT_BYTES:
        raise UserError(
            N_("The file is larger than {max} MB. Split it and import the parts."),
            max=MAX_IMPORT_BYTES // 1_000_000,
        )
    text = importers.decode(raw, filename or "file")
    try:
        fmt = importers.ImportFormat(chosen) if chosen else None
    except ValueError:
        raise UserError(N_("Choose a file format from the list.")) from None
    fmt = fmt or importers.guess_text_format(filename, text[:4096])
    return fmt, importers.parse_text(text, fmt, where=filename or "file")


def _import_upload(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    raw: bytes,
    filename: str,
    format: str,  # noqa: A002 - the form field's name
    dataset: str,
) -> Response:
    workspace = membership.workspace
    try:
        fmt, charts = parse_upload(raw, filename=filename, chosen=format)
        target = service.find_or_create_dataset(
            db, workspace=workspace, name=dataset or DEFAULT_IMPORT_NAME, source=fmt.value
        )
        service.import_charts(db, dataset=target, charts=charts, settings=app_settings(request))
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return _apps_page(
            request, db, membership, error=exc.translated(i18n.gettext), status_code=400
        )
    return RedirectResponse(f"/w/{workspace.slug}/market?dataset={target.id}", status_code=303)


@router.post("/w/{slug}/market/apps/{tracked_id}/delete")
def untrack_app(tracked_id: int, db: Db, membership: Writer) -> Response:
    """Stop tracking an app (its chart data stays)."""
    service.untrack_app(db, workspace=membership.workspace, tracked_id=tracked_id)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/market/apps", status_code=303)
