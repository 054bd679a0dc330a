"""When to post on a connected account: the composer asks, a capability that knows answers.

Publishing offers suggested times in its scheduler but knows nothing of the accounts'
figures; analytics knows them but sits beside publishing, not below it. So analytics
registers a provider here when the web app is built, and the composer asks through
``suggested_times``. With no provider, or an account with too little history, the answer
is empty and the composer shows nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from guanxi.channels.models import Channel


@dataclass(frozen=True)
class SuggestedTime:
    """A time to post on an account, from its own history."""

    at: datetime  # the next such hour, aware
    lift: float  # the engagement rate's expected change against the account's average hour
    posts: int  # the account's posts at this hour of the week, which the estimate rests on


SuggestedTimesProvider = Callable[[Session, Channel, datetime], list[SuggestedTime]]

_providers: list[SuggestedTimesProvider] = []


def register_best_times(provider: SuggestedTimesProvider) -> None:
    """Answer the composer's question with ``provider`` (registering twice is once)."""
    if provider not in _providers:
        _providers.append(provider)


def suggested_times(db: Session, channel: Channel, *, now: datetime) -> list[SuggestedTime]:
    """The best times to post on ``channel`` after ``now``, best first; empty when no
    provider knows (the first that answers is used)."""
    for provider in _providers:
        found = provider(db, channel, now)
        if found:
            return found
    return []
