from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes under a zh-Hant heading in the admin (it ships no zh-Hant name)."""

    verbose_name = _("登入失敗與鎖定")
