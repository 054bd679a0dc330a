"""Tables of this capability (see the package docstring)."""

from __future__ import annotations
