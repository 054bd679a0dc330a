"""Derive the sandbox audience's sample of fan texts from ../shared/data (development only).

Source: dengxiuqi/weibo2018 (hand-labelled Sina Weibo posts, ``train.txt`` and ``topics/``),
as kept in ``../shared/data``. Short posts are cleaned of Weibo's ``{%...%}`` markup, links
and @-names, and written with their sentiment label to
``src/guanxi/sandbox/data/audience_zh.json``, which the sandbox reads at run time.

Usage: ``python scripts/derive_audience_sample.py ../shared/data``
"""

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/guanxi/sandbox/data/audience_zh.json"
MARKUP = re.compile(r"\{%[^%]*%\}")
LINK = re.compile(r"https?://\S+")
AT = re.compile(r"@[\w\-]+")
PER_LABEL = {"1": 160, "0": 120}


def clean(text: str) -> str:
    """The post without markup, links and @-names, whitespace collapsed."""
    text = MARKUP.sub("", text)
    text = LINK.sub("", AT.sub("", text))
    return re.sub(r"\s+", " ", text.replace("\u200b", "")).strip(" ：:/")


def main(data_dir: str) -> int:
    """Write the sample; returns the exit status."""
    lines = (Path(data_dir) / "sentiment/weibo2018_train.txt").read_text("utf-8").splitlines()
    picked: dict[str, list[str]] = {"1": [], "0": []}
    for line in lines:
        parts = line.split(",", 2)
        if len(parts) != 3 or parts[1] not in picked:
            continue
        text = clean(parts[2])
        if (
            8 <= len(text) <= 60
            and "【" not in text
            and len(picked[parts[1]]) < PER_LABEL[parts[1]]
        ):
            picked[parts[1]].append(text)
    topics = []
    for path in sorted((Path(data_dir) / "weibo_topics").glob("*.txt")):
        for line in path.read_text("utf-8").splitlines()[:60]:
            parts = line.split(",", 2)
            text = clean(parts[2]) if len(parts) == 3 else ""
            if 8 <= len(text) <= 60 and "【" not in text:
                topics.append(text)
                if len(topics) % 12 == 0:
                    break
    sample = {
        "source": "dengxiuqi/weibo2018 (train.txt and topics/), hand-labelled Sina Weibo posts; "
        "short posts cleaned of markup, links and @-names by scripts/derive_audience_sample.py",
        "positive": picked["1"],
        "negative": picked["0"],
        "topics": topics,
    }
    OUT.write_text(json.dumps(sample, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(
        f"wrote {OUT}: {len(picked['1'])} positive, {len(picked['0'])} negative, "
        f"{len(topics)} topic posts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
