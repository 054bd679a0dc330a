"""The market tables."""

from __future__ import annotations
