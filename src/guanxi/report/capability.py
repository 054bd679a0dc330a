"""Reports: a workspace's weekly and monthly reports, built from every capability's sections,
previewed as a page, shared by a read-only link and made as files."""

from guanxi.core.capability import Capability
from guanxi.report import cli, models, schedule_models
from guanxi.report.branding import models as branding_models

capability = Capability(
    name="report",
    position=90,
    routers=(
        # Before the reports' own: /reports/branding is not a report's number.
        "guanxi.report.branding.views:router",
        "guanxi.report.schedule_views:router",
        "guanxi.report.views:router",
        "guanxi.report.share_views:router",
    ),
    api_routers=("guanxi.report.api:router", "guanxi.report.schedule_api:router"),
    models=(models, schedule_models, branding_models),
    schedule="guanxi.report.scheduled:SCHEDULE",
    cli=cli.register,
)
