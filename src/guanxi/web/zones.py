"""The viewer's time zone: the one they chose in their personal settings, else the
workspace's. Every page shows times in it, on the server (never the browser's zone), each
time with its offset from UTC."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request

from guanxi.core import fields

# Session keys an earlier version kept the viewer's zone under; read by no page any more.
VIEWER_ZONE = "viewer_tz"
VIEWER_ZONE_SOURCE = "viewer_tz_source"
DEFAULT_ZONE = "Asia/Shanghai"


def viewer_zone(request: Request, fallback: str) -> tuple[str, str]:
    """The viewer's time zone and where it came from: "chosen" (their personal setting) or
    "workspace" (``fallback``, the workspace's zone, until they choose one)."""
    user = getattr(request.state, "user", None)
    chosen = getattr(user, "timezone", None)
    if isinstance(chosen, str) and valid_zone(chosen):
        return chosen, "chosen"
    return (fallback if valid_zone(fallback) else DEFAULT_ZONE), "workspace"


def valid_zone(zone: str) -> bool:
    """Whether ``zone`` names a time zone this server knows."""
    return fields.zone_or_none(zone) is not None


def offset_label(moment: datetime) -> str:
    """The UTC offset of an aware ``moment`` as people read it: "UTC+8", "UTC-3:30", "UTC"."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
