from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallStatsConfig(AppConfig):
    name = "callstats"
    verbose_name = _("Call statistics")
