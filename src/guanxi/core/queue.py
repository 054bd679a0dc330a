"""The task queue: a Huey instance chosen by ``GUANXI_QUEUE_URL``.

Empty means a SQLite file beside the database (``data_dir/queue.db``), so a single machine
needs nothing else; ``redis://host:port/db`` uses Redis. The queue only triggers work: the
database rows stay the truth, so losing a queued message delays a post, never loses it.
"""

from __future__ import annotations

from functools import lru_cache

from huey import Huey, RedisHuey, SqliteHuey

from guanxi.core.settings import ConfigurationError, Settings, get_settings

QUEUE_NAME = "guanxi"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def make_huey(settings: Settings, *, name: str = QUEUE_NAME) -> Huey:
    """A Huey instance for ``settings.queue_url`` (SQLite when empty, else Redis)."""
    url = settings.queue_url.strip()
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(settings.data_dir / "queue.db"))
    if url.startswith(REDIS_SCHEMES):
        return RedisHuey(name, url=url)
    msg = (
        f"GUANXI_QUEUE_URL={url!r} is not supported. Leave it empty for a SQLite queue in "
        "the data directory, or give a Redis URL such as redis://127.0.0.1:6379/0."
    )
    raise ConfigurationError(msg)


@lru_cache(maxsize=1)
def get_huey() -> Huey:
    """The process-wide queue, built from the settings on first use."""
    return make_huey(get_settings())
