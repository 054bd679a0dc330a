"""Which installed font draws Chinese, found through fontconfig (what the PDF renderer uses).

A PDF with Chinese text and no such font would print boxes; the report says instead what to
install (Debian's fonts-noto-cjk)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from guanxi.core.errors import N_, UserError

# Simplified Chinese faces first: the same characters differ in shape between SC, TC and JP.
_PREFERRED = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
# Han characters, CJK punctuation and full-width forms.
_CJK = re.compile(
    r"[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
_FC_LIST_SECONDS = 10
_NOTO = Path("/usr/share/fonts/opentype/noto")
_KNOWN = (
    ("Noto Sans CJK SC", _NOTO / "NotoSansCJK-Regular.ttc"),
    ("Noto Sans CJK SC", _NOTO / "NotoSansCJKsc-Regular.otf"),
    ("WenQuanYi Zen Hei", Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),
)


@dataclass(frozen=True)
class CjkFont:
    """A font family that draws Simplified Chinese, and the file it is in."""

    family: str
    path: Path


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a Chinese character (or CJK punctuation)."""
    return _CJK.search(text) is not None


def find_cjk_font() -> CjkFont | None:
    """The installed font family fontconfig knows for Simplified Chinese, else None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:  # fontconfig's library without its tools: Debian's usual places
        return next((CjkFont(family, path) for family, path in _KNOWN if path.is_file()), None)
    try:
        listed = subprocess.run(  # noqa: S603 - a fixed command, no user input
            [fc_list, ":lang=zh-cn", "family", "file"],
            capture_output=True,
            text=True,
            timeout=_FC_LIST_SECONDS,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found: dict[str, Path] = {}
    for line in listed.splitlines():
        path, _, families = line.partition(": ")
        for family in families.split(","):
            name, file = family.strip(), Path(path.strip())
            if name not in found or ("Bold" in found[name].name) > ("Bold" in file.name):
                found[name] = file  # the regular weight's file, where both are listed
    for family in _PREFERRED:
        if family in found:
            return CjkFont(family, found[family])
    if not found:
        return None
    family = min(found)
    return CjkFont(family, found[family])


def require_cjk_font() -> CjkFont:
    """The Chinese font, or the error saying which package to install."""
    font = find_cjk_font()
    if font is None:
        raise UserError(
            N_(
                "This report has Chinese text and no Chinese font is installed on the server, "
                "so the PDF would show boxes: install Debian's fonts-noto-cjk "
                "(apt install fonts-noto-cjk), then make the report again."
            )
        )
    return font
