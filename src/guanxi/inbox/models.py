"""The inbox tables."""

from __future__ import annotations
