from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetConfig(AppConfig):
    name = "meet"
    verbose_name = _("Meet")
