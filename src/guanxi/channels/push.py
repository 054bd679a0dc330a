"""Where the events platforms push go: each capability registers a handler per kind.

The webhook entry (``guanxi.channels.webhooks``) knows neither the platforms' formats (the
connector parses them into ``guanxi.connectors.push`` events) nor what the events mean to
the capabilities (publishing follows a publish, the inbox stores a message): each capability
registers its handlers when the app is built. A handler commits what it changes; it raises
``PushRefusedError`` to refuse the request (a replay) and ``InvalidValue`` for a value that
cannot be stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.connectors.push import PushEvent

log = logging.getLogger(__name__)

E = TypeVar("E", bound=PushEvent)
PushHandler = Callable[[Session, Channel, E], None]

_handlers: dict[type[Any], list[PushHandler[Any]]] = {}


def register_push_handler(kind: type[E], handler: PushHandler[E]) -> None:
    """Call ``handler`` for every pushed event of type ``kind`` (registering twice is once)."""
    handlers = _handlers.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def dispatch_push(db: Session, channel: Channel, event: PushEvent) -> None:
    """Hand ``event`` to the handlers registered for its kind."""
    handlers = _handlers.get(type(event), [])
    if not handlers:
        log.info("no handler for %s pushed to channel %s", type(event).__name__, channel.id)
    for handler in handlers:
        handler(db, channel, event)
