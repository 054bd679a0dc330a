"""Merge the labellers' files into the shipped labelled sets and report on them (issue #17).

Reads the pool (``data/nlp-pool/chunk-*.jsonl``: texts, author fields, sources), the
labels (``data/nlp-labels/<labeller>/chunk-*.jsonl``, one object a line:
``{"id", "source_kind", "stage", "sentiment", "note"}``) and the second pass on a sample
(``data/nlp-labels/second-pass/<labeller>/*.jsonl``, same rows). Writes
``src/guanxi/nlp/data/labelled/{train,dev}.jsonl`` (a text is in dev when the MD5 of its
id is 0 modulo 6: stable, no stored list) and ``SOURCES.md`` beside them, then prints the
counts per class and Cohen's kappa between the first and the second pass, for each pair of
labellers, as Markdown.

    python scripts/nlp_labels.py [--labels data/nlp-labels] [--pool data/nlp-pool]
                                 [--docs docs/nlp.md]

With ``--docs``, the report also replaces the block between ``<!-- labels-report -->`` and
``<!-- /labels-report -->`` in that Markdown file.

A label outside the rubric's names, an id that is not in the pool, or a text labelled twice
in the first pass with different labels stops the run with the file and line to fix.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

LABELS = {
    "source_kind": ("personal", "public", "marketer"),
    "stage": (
        "need_recognition",
        "information_search",
        "evaluation",
        "purchase",
        "post_purchase",
        "none",
    ),
    "sentiment": ("positive", "negative", "neutral"),
}
AUTHOR_FIELDS = ("author_name", "verified_type", "verified_reason", "description", "followers")
DEV_MODULUS = 6
SKIP_DIRS = {"CLAIMS", "second-pass"}


class LabelError(Exception):
    """A labelling file that breaks the format; the message says where and what to fix."""


def is_dev(text_id: str) -> bool:
    """Whether a labelled text belongs to the development set (1 in 6, by its id's MD5)."""
    return int(hashlib.md5(text_id.encode("utf-8")).hexdigest(), 16) % DEV_MODULUS == 0


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise LabelError(f"{path}:{number}: not JSON ({error.msg})") from error
        if not isinstance(row, dict):
            raise LabelError(f"{path}:{number}: expected a JSON object")
        yield number, row


def read_pool(pool_dir: Path) -> dict[str, dict[str, Any]]:
    """The pool's texts by id."""
    pool: dict[str, dict[str, Any]] = {}
    for path in sorted(pool_dir.glob("chunk-*.jsonl")):
        for _, row in _rows(path):
            pool[row["id"]] = row
    if not pool:
        raise LabelError(f"no pool in {pool_dir}: run scripts/nlp_pool.py first")
    return pool


def read_labels(
    files: Iterable[tuple[str, Path]], pool: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Labels by id from ``(labeller, file)`` pairs, checked against the rubric and the pool."""
    labels: dict[str, dict[str, Any]] = {}
    for labeller, path in files:
        for number, row in _rows(path):
            where = f"{path}:{number}"
            text_id = row.get("id")
            if text_id not in pool:
                raise LabelError(f"{where}: id {text_id!r} is not in the pool")
            for name, allowed in LABELS.items():
                if row.get(name) not in allowed:
                    raise LabelError(
                        f"{where}: {name} {row.get(name)!r} is not one of {', '.join(allowed)}"
                    )
            label = {name: row[name] for name in LABELS} | {
                "note": str(row.get("note") or ""),
                "labeller": labeller,
            }
            previous = labels.get(text_id)
            if previous and any(previous[name] != label[name] for name in LABELS):
                raise LabelError(
                    f"{where}: {text_id} has other labels by {previous['labeller']}; "
                    "a second opinion belongs in data/nlp-labels/second-pass/"
                )
            labels.setdefault(text_id, label)
    return labels


def label_files(labels_dir: Path) -> list[tuple[str, Path]]:
    """The first-pass files: one directory per labeller."""
    return [
        (directory.name, path)
        for directory in sorted(
            p for p in labels_dir.iterdir() if p.is_dir() and p.name not in SKIP_DIRS
        )
        for path in sorted(directory.glob("*.jsonl"))
    ]


def second_pass_files(labels_dir: Path) -> list[tuple[str, Path]]:
    """The second-pass files: ``second-pass/<labeller>/*.jsonl`` (or flat, labeller "second")."""
    root = labels_dir / "second-pass"
    if not root.is_dir():
        return []
    files = [("second", path) for path in sorted(root.glob("*.jsonl"))]
    files += [
        (directory.name, path)
        for directory in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(directory.glob("*.jsonl"))
    ]
    return files


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two labellings of the same items (1.0 when both use one class only)."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def shipped_row(text_id: str, item: dict[str, Any], label: dict[str, Any]) -> dict[str, Any]:
    """One row of the shipped sets: the text, its author fields, its labels and its source."""
    row: dict[str, Any] = {"id": text_id, "text": item["text"], "platform": item.get("platform")}
    row |= {field: item.get(field) for field in AUTHOR_FIELDS}
    row |= {name: label[name] for name in LABELS}
    row |= {"source": item["source"], "labeller": label["labeller"], "note": label["note"]}
    return row


def sources_markdown(rows: list[dict[str, Any]]) -> str:
    """SOURCES.md: every source, its licence and how many labelled rows come from it."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        source = row["source"]
        counts[
            (
                source["repository"],
                source.get("path", ""),
                source.get("licence", "no licence stated"),
            )
        ] += 1
    lines = [
        "# Sources of the labelled sets",
        "",
        "Public Chinese social-media text, labelled by the guanxi team against the rubric in",
        "docs/nlp.md. Each row of train.jsonl and dev.jsonl names its source (repository,",
        "path, commit when known, licence as the repository states it) and its labeller.",
        "Generated by scripts/nlp_labels.py.",
        "",
        "| repository | path | licence | rows |",
        "|---|---|---|---|",
    ]
    for (repository, path, licence), n in sorted(counts.items()):
        lines.append(f"| {repository} | {path} | {licence} | {n} |")
    lines.append(f"| **total** | | | {sum(counts.values())} |")
    lines += [
        "",
        "Never used (held out by issue #17 for the final check): the `test.txt` of",
        "dengxiuqi/weibo2018, waimai_10k and ChnSentiCorp_htl_all of SophonPlus/ChineseNlpCorpus,",
        "the crawler outputs of HolyCaonima/weibo-crawler, azanghai/weibo-crawler and",
        "weiss0106/weibo-crawler.",
        "",
    ]
    return "\n".join(lines)


def report(
    train: list[dict[str, Any]],
    dev: list[dict[str, Any]],
    pairs: dict[tuple[str, str], dict[str, list[tuple[str, str]]]],
) -> str:
    """The Markdown report: counts per class and split, then the agreement of the two passes,
    for each pair of labellers (first pass, second pass) and, with more than one pair, all
    of them together."""
    lines = [f"Labelled texts: {len(train) + len(dev)} (train {len(train)}, dev {len(dev)}).", ""]
    for name, classes in LABELS.items():
        lines += [f"| {name} | train | dev |", "|---|---|---|"]
        train_counts = Counter(r[name] for r in train)
        dev_counts = Counter(r[name] for r in dev)
        lines += [f"| {c} | {train_counts[c]} | {dev_counts[c]} |" for c in classes]
        lines.append("")
    groups = [
        (f"{first} / {second}", by_label) for (first, second), by_label in sorted(pairs.items())
    ]
    if len(groups) > 1:
        together: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for _, by_label in groups:
            for name, label_pairs in by_label.items():
                together[name] += label_pairs
        groups.append(("all", together))
    n = sum(len(by_label["source_kind"]) for _, by_label in groups[: len(pairs)])
    lines.append(f"Second pass: {n} texts labelled twice, independently.")
    if n:
        lines += [
            "",
            "| first / second labeller | texts | label | agreement | Cohen's kappa |",
            "|---|---|---|---|---|",
        ]
        for who, by_label in groups:
            for name in LABELS:
                label_pairs = by_label[name]
                agreement = sum(a == b for a, b in label_pairs) / len(label_pairs)
                lines.append(
                    f"| {who} | {len(label_pairs)} | {name} | {agreement:.1%} "
                    f"| {cohen_kappa(label_pairs):.3f} |"
                )
    return "\n".join(lines)


REPORT_START = "<!-- labels-report -->"
REPORT_END = "<!-- /labels-report -->"


def update_docs(path: Path, text: str) -> None:
    """Replace the report block of a Markdown file (between the two marker comments)."""
    doc = path.read_text("utf-8")
    start, end = doc.find(REPORT_START), doc.find(REPORT_END)
    if start < 0 or end < start:
        raise LabelError(f"{path}: add the lines {REPORT_START} and {REPORT_END} around the report")
    doc = doc[: start + len(REPORT_START)] + "\n" + text + "\n" + doc[end:]
    path.write_text(doc, "utf-8")


def main() -> int:
    """Merge, split, write and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=Path("data/nlp-labels"))
    parser.add_argument("--pool", type=Path, default=Path("data/nlp-pool"))
    parser.add_argument("--output", type=Path, default=Path("src/guanxi/nlp/data/labelled"))
    parser.add_argument(
        "--docs", type=Path, help="Markdown file whose labels-report block to update"
    )
    args = parser.parse_args()
    try:
        pool = read_pool(args.pool)
        labels = read_labels(label_files(args.labels), pool)
        second = read_labels(second_pass_files(args.labels), pool)
    except LabelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    train: list[dict[str, Any]] = []
    dev: list[dict[str, Any]] = []
    for text_id in sorted(labels):
        (dev if is_dev(text_id) else train).append(
            shipped_row(text_id, pool[text_id], labels[text_id])
        )
    pairs: dict[tuple[str, str], dict[str, list[tuple[str, str]]]] = {}
    for text_id, again in sorted(second.items()):
        first = labels.get(text_id)
        if first is None or first["labeller"] == again["labeller"]:
            continue  # only a different labeller's independent pass counts
        by_label = pairs.setdefault((first["labeller"], again["labeller"]), defaultdict(list))
        for name in LABELS:
            by_label[name].append((first[name], again[name]))

    args.output.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("dev", dev)):
        with (args.output / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (args.output / "SOURCES.md").write_text(sources_markdown(train + dev), "utf-8")
    text = report(train, dev, pairs)
    print(text)
    if args.docs is not None:
        try:
            update_docs(args.docs, text)
        except LabelError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
