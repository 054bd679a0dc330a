"""Team: the pages and the API through which people sign in and manage a workspace's access
(the accounts themselves are ``guanxi.accounts``, beneath every request)."""

from guanxi.core.capability import Capability

capability = Capability(
    name="team",
    routers=(
        "guanxi.team.views:router",
        "guanxi.team.me:router",
        "guanxi.team.reset_views:router",
    ),
    api_routers=("guanxi.team.api:router",),
)
