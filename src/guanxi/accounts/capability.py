"""Accounts: people, workspaces, memberships and API tokens."""

from guanxi.accounts import models
from guanxi.core.capability import Capability

capability = Capability(
    name="accounts",
    routers=("guanxi.accounts.views:router",),
    api_routers=("guanxi.accounts.api:router",),
    models=(models,),
)
