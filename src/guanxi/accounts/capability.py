"""Accounts: people, workspaces, memberships and API tokens; its tables. Its pages are the
team capability's (``guanxi.team``): accounts is beneath the request toolkit, which needs to
know who is asking."""

from guanxi.accounts import models
from guanxi.core.capability import Capability

capability = Capability(name="accounts", models=(models,))
