from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'agencies'
    verbose_name = _("機關與帳號")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from . import signals

        # Connected here, after axes (installed earlier) has connected its own
        # receivers, so the failure receiver sees axes' verdict on the attempt.
        user_logged_in.connect(signals.record_login, dispatch_uid="agencies.audit.login")
        user_logged_out.connect(signals.record_logout, dispatch_uid="agencies.audit.logout")
        user_login_failed.connect(signals.record_login_failure, dispatch_uid="agencies.audit.login_failed")
        user_locked_out.connect(signals.record_lockout, dispatch_uid="agencies.audit.locked_out")
