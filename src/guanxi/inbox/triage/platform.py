"""Moderation's platform actions (hide, reply) through the connector of the item's channel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.connectors.base import Capability, ConnectorError, FetchedKind
from guanxi.connectors.registry import connector_for
from guanxi.core.errors import N_, UserError
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.replies import service as replies
from guanxi.inbox.replies.models import ReplyState


class PlatformRefusedError(UserError):
    """The platform refused a moderation action; the message carries its reason."""


class ConnectorActions:
    """Hide and reply through the connector of the item's channel."""

    def hide(self, db: Session, *, item: InboxItem) -> None:
        """Hide or delete ``item`` on its platform (``Connector.hide``)."""
        channel = db.get(Channel, item.channel_id)
        if channel is None:
            raise PlatformRefusedError(N_("The account of this item was removed."))
        connector = connector_for(channel)
        if Capability.HIDE not in connector.capabilities:
            raise PlatformRefusedError(
                N_("This platform's API cannot hide comments: hide it by hand on the platform.")
            )
        context = replies.default_context_for(db)(channel)
        try:
            connector.hide(context, item_external_id=item.external_id, kind=FetchedKind(item.kind))
        except ConnectorError as error:
            raise PlatformRefusedError(
                N_("The platform refused to hide the item: {reason}"), reason=str(error)
            ) from error

    def reply(self, db: Session, *, item: InboxItem, text: str) -> None:
        """Send ``text`` as the reply to ``item`` through the reply service."""
        reply = replies.send_reply(db, item=item, text=text, actor=None)
        if reply.state != ReplyState.SENT:
            raise PlatformRefusedError(
                N_("The automatic reply was not sent; it is kept as a {state} reply."),
                state=str(reply.state),
            )
