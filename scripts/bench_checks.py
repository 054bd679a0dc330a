"""Benchmark the sensitive-word automaton (and the whole check pipeline) on real posts.

Usage: ``python scripts/bench_checks.py [--terms 10000] [--rounds 20] [--posts DIR]``;
DIR defaults to ../shared/data/weibo_topics next to the checkout.
"""

import argparse
import sys
from pathlib import Path

from guanxi.devtools.bench.checks import bench_words, read_posts

DEFAULT_POSTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "weibo_topics"


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--posts", type=Path, default=DEFAULT_POSTS)
    args = parser.parse_args()
    texts = read_posts(args.posts)
    if not texts:
        print(f"No posts found in {args.posts} (*.txt, id,flag,text lines).", file=sys.stderr)
        return 1
    result = bench_words(texts=texts, terms=args.terms, rounds=args.rounds)
    for line in result.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
