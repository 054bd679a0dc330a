"""The viewer's time zone: the one the browser reports or the viewer chose, kept in the session."""

from __future__ import annotations

from fastapi import Request

from guanxi.core import fields

# Session keys: the viewer's zone, and where it came from ("chosen" or "browser").
VIEWER_ZONE = "viewer_tz"
VIEWER_ZONE_SOURCE = "viewer_tz_source"


def viewer_zone(request: Request, fallback: str) -> tuple[str, str]:
    """The viewer's time zone and where it came from ("chosen" on the calendar, "browser",
    or "workspace" until the browser says)."""
    zone = request.session.get(VIEWER_ZONE)
    source = request.session.get(VIEWER_ZONE_SOURCE)
    if isinstance(zone, str) and valid_zone(zone) and source in {"chosen", "browser"}:
        return zone, str(source)
    return fallback, "workspace"


def valid_zone(zone: str) -> bool:
    """Whether ``zone`` names a time zone this server knows."""
    return fields.zone_or_none(zone) is not None
