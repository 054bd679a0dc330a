"""Channels: the brand's connected platform accounts, and the platforms' pushes to them."""

from guanxi.channels import models
from guanxi.core.capability import Capability

capability = Capability(
    name="channels",
    # Platform pushes are signature-authenticated, without CSRF.
    routers=(
        "guanxi.channels.views:router",
        "guanxi.channels.webhooks:router",
    ),
    models=(models,),
)
