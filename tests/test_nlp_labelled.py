"""The labelled sets shipped in the package: well-formed, split by the stated rule, sourced."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

import pytest

from guanxi.nlp.stage import NONE, STAGES

LABELLED = resources.files("guanxi.nlp") / "data" / "labelled"
SOURCE_KINDS = {"personal", "public", "marketer"}
SENTIMENTS = {"positive", "negative", "neutral"}
# Held out by issue #17 for the final check: never in the labelled sets.
HELD_OUT = (
    "weibo2018/test",
    "waimai_10k",
    "chnsenticorp_htl_all",
    "holycaonima/",
    "azanghai/",
    "weiss0106/",
)


def _rows(name: str) -> list[dict[str, Any]]:
    text = (LABELLED / f"{name}.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict[str, Any]]]:
    return {name: _rows(name) for name in ("train", "dev")}


def test_every_row_has_a_text_labels_from_the_rubric_a_source_and_a_labeller(
    sets: dict[str, list[dict[str, Any]]],
) -> None:
    for row in sets["train"] + sets["dev"]:
        assert row["text"].strip(), row["id"]
        assert row["source_kind"] in SOURCE_KINDS, row
        assert row["stage"] in (*STAGES, NONE), row
        assert row["sentiment"] in SENTIMENTS, row
        assert row["source"]["repository"], row
        assert row["source"]["licence"], row
        assert row["labeller"], row


def test_dev_is_one_in_six_by_the_md5_of_the_id_and_no_text_is_in_both(
    sets: dict[str, list[dict[str, Any]]],
) -> None:
    def dev(text_id: str) -> bool:
        return int(hashlib.md5(text_id.encode()).hexdigest(), 16) % 6 == 0

    assert all(dev(row["id"]) for row in sets["dev"])
    assert not any(dev(row["id"]) for row in sets["train"])
    train_texts = {row["text"] for row in sets["train"]}
    assert not train_texts & {row["text"] for row in sets["dev"]}


def test_no_row_comes_from_a_held_out_set(sets: dict[str, list[dict[str, Any]]]) -> None:
    for row in sets["train"] + sets["dev"]:
        where = f"{row['source']['repository']}/{row['source'].get('path', '')}".lower()
        assert not any(held in where for held in HELD_OUT), where


def test_sources_md_counts_every_row(sets: dict[str, list[dict[str, Any]]]) -> None:
    sources = (LABELLED / "SOURCES.md").read_text("utf-8")
    total = re.search(r"\| \*\*total\*\* \| \| \| (\d+) \|", sources)
    assert total is not None
    assert int(total.group(1)) == len(sets["train"]) + len(sets["dev"])
