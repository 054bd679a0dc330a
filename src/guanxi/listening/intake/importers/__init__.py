"""Importers: one per file format, each a stream of parsed rows (see ``base``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from guanxi.core.errors import N_, UserError
from guanxi.listening.intake.importers.base import Importer
from guanxi.listening.intake.importers.generic import GenericImporter
from guanxi.listening.intake.importers.mediacrawler import MediaCrawlerImporter
from guanxi.listening.intake.importers.weibo_crawler import WeiboCrawlerImporter
from guanxi.listening.intake.models import SourceFormat

GENERIC_FORMATS = frozenset({SourceFormat.CSV, SourceFormat.JSONL, SourceFormat.XLSX})
FILE_FORMATS = (
    SourceFormat.WEIBO_CRAWLER,
    SourceFormat.MEDIACRAWLER,
    SourceFormat.CSV,
    SourceFormat.JSONL,
    SourceFormat.XLSX,
)


def importer_for(
    file_format: str,
    *,
    mapping: Mapping[str, str] | None = None,
    platform: str = "weibo",
    users_path: Path | None = None,
) -> Importer:
    """The importer of ``file_format``; generic formats need a column ``mapping``."""
    if file_format == SourceFormat.WEIBO_CRAWLER:
        return WeiboCrawlerImporter(users_path=users_path)
    if file_format == SourceFormat.MEDIACRAWLER:
        return MediaCrawlerImporter(platform=platform)
    if file_format in GENERIC_FORMATS:
        return GenericImporter(format=file_format, mapping=dict(mapping or {}), platform=platform)
    raise UserError(
        N_(
            "guanxi cannot import the format {format}. Use weibo-crawler, mediacrawler, csv, "
            "jsonl or xlsx."
        ),
        format=file_format,
    )
