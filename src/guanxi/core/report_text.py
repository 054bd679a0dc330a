"""A report's words in one language: its texts translated, its numbers written as that
language writes them (1,380 and 12.3K in English; 1,380 and 12.3万, 1.2亿 in Chinese), its
chart categories and table cells written.

Every format (the web page, PDF, PowerPoint, Excel's labels) and every page that draws a
``core.report.Chart`` writes through these, so a figure reads the same in each. A report's
language is one of ``REPORT_LANGUAGES``.
"""

from __future__ import annotations

import math
from datetime import date

from babel.dates import format_skeleton
from babel.numbers import (
    format_compact_decimal,
    format_currency,
    format_decimal,
    format_percent,
)

from guanxi.core.i18n import get_translations
from guanxi.core.report import Name, Number, Text, Unit

REPORT_LANGUAGES = ("en", "zh_Hans")
BABEL_LOCALES = {"en": "en_US", "zh_Hans": "zh_Hans_CN"}
# Counts from here are written compactly (万 and 亿 in Chinese, K and M in English).
COMPACT_FROM = 100_000
MISSING = "—"


def _locale(language: str) -> str:
    try:
        return BABEL_LOCALES[language]
    except KeyError:
        msg = f"a report is written in one of {', '.join(REPORT_LANGUAGES)}, not {language!r}"
        raise ValueError(msg) from None


def translate(text: Text, language: str) -> str:
    """``text`` translated into ``language``, its values written for that language."""
    message = get_translations(language).gettext(text.message) if language != "en" else text.message
    if not text.values:
        return message
    values = {name: _value(value, language) for name, value in text.values.items()}
    return message.format(**values)


def _value(value: str | int | float | Number | Text | Name, language: str) -> str:
    if isinstance(value, Text):
        return translate(value, language)
    if isinstance(value, Name):
        return value.in_language(language)
    if isinstance(value, Number):
        return number(value, language)
    if isinstance(value, (bool, str)):
        return str(value)
    return number(Number(float(value)), language)


def number(value: Number, language: str) -> str:
    """``value`` as ``language`` writes it: "—" when unknown."""
    amount = value.value
    if amount is None or math.isnan(amount):
        return MISSING
    locale = _locale(language)
    if value.unit is Unit.PERCENT:
        return format_percent(amount, "#,##0.0%", locale=locale)
    if value.unit is Unit.MONEY:
        if value.currency:
            return format_currency(amount, value.currency, locale=locale)
        return format_decimal(amount, "#,##0.00", locale=locale)
    if value.unit is Unit.DURATION:
        return _duration(amount, language)
    if value.unit is Unit.COUNT and abs(amount) >= COMPACT_FROM:
        return format_compact_decimal(amount, locale=locale, fraction_digits=1)
    if amount == int(amount):
        return format_decimal(int(amount), locale=locale)
    return format_decimal(amount, "#,##0.##", locale=locale)


def _duration(seconds: float, language: str) -> str:
    """A duration in the largest unit that keeps it readable: 45 s, 12 min, 3.5 h, 2.1 d."""
    chinese = language == "zh_Hans"
    steps = ((86_400, "d", "天"), (3_600, "h", "小时"), (60, "min", "分钟"))
    for size, english, zh in steps:
        if abs(seconds) >= size:
            amount = format_decimal(round(seconds / size, 1), "#,##0.#", locale=_locale(language))
            return f"{amount} {zh}" if chinese else f"{amount} {english}"
    whole = format_decimal(round(seconds), locale=_locale(language))
    return f"{whole} 秒" if chinese else f"{whole} s"


def change(current: Number, previous: Number | None, language: str) -> str:
    """The change from ``previous`` to ``current``: "+4.2%" for counts and money, "+1.3 pts"
    for percentages, "—" when either is unknown or the previous is zero."""
    if previous is None or current.value is None or previous.value is None:
        return MISSING
    if current.unit is Unit.PERCENT:
        points = (current.value - previous.value) * 100
        sign = "+" if points > 0 else ""
        written = format_decimal(round(points, 1), "#,##0.0", locale=_locale(language))
        return f"{sign}{written} 个百分点" if language == "zh_Hans" else f"{sign}{written} pts"
    if previous.value == 0:
        return MISSING
    ratio = (current.value - previous.value) / abs(previous.value)
    sign = "+" if ratio > 0 else ""
    return sign + format_percent(ratio, "#,##0.0%", locale=_locale(language))


def day(value: date, language: str, *, year: bool = False) -> str:
    """A day as ``language`` writes it: "Dec 7" / "12月7日", with the year when asked."""
    return format_skeleton("yMMMd" if year else "MMMd", value, locale=_locale(language))


def category(value: str | date | Name | Text, language: str) -> str:
    """A chart's category as ``language`` writes it (a day: "Dec 7" / "12月7日"; a platform:
    "Weibo" / "微博")."""
    return day(value, language) if isinstance(value, date) else written(value, language)


def written(value: str | Name | Text, language: str) -> str:
    """A name, a message or a text as it is, in ``language``."""
    if isinstance(value, Name):
        return value.in_language(language)
    if isinstance(value, Text):
        return translate(value, language)
    return value


def cell(
    value: str | float | int | Name | Text | date | None, unit: Unit | None, language: str
) -> str:
    """A table's cell written for ``language`` (formats without number cells)."""
    if value is None:
        return MISSING
    if isinstance(value, date):
        return day(value, language, year=True)
    if isinstance(value, str | Name | Text):
        return written(value, language)
    if unit is None:
        return str(value)
    return number(Number(float(value), unit), language)
