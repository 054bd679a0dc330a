"""The length limits the composer counts against, as each channel's connector declares them
(``FieldLimit``); nothing about a platform is written here or in the templates."""

from __future__ import annotations

from guanxi.connectors.base import Connector, FieldLimit


def field_limits(connector: Connector | None) -> dict[str, dict[str, object]]:
    """``{field: {"limit": n, "counting": how}}`` for the fields a connector limits.

    A connector that declares no ``field_limits`` (a plugin written before them) has no
    counters: the composer shows the length without a limit.
    """
    declared: tuple[FieldLimit, ...] = getattr(connector, "field_limits", ())
    return {
        limit.field: {"limit": limit.limit, "counting": limit.counting.value} for limit in declared
    }
