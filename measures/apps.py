from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeasuresConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'measures'
    verbose_name = _("方案")
