"""The listening tables."""

from __future__ import annotations
