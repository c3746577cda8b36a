"""Evidence (佐證資料): files attached to an entry, kept where no web server serves them."""

import secrets

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anticorruption.storage import PrivateStorage

from .evidence import KIND_CHOICES


# Evidence (佐證資料) lives in MEDIA_ROOT/evidence and leaves only through the download view.
_storage = PrivateStorage("evidence", "reporting:evidence_download")


def evidence_storage():
    # A callable, so migrations record this function rather than a FileSystemStorage path.
    return _storage


def evidence_stored_name(instance, filename):
    # Random and without an extension: the original name never reaches the disk.
    return f"{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Evidence of the entries the user may see (scoped like the obligations)."""
        # Looked up, not imported: reporting.models imports this module to register Evidence.
        obligations = apps.get_model("reporting", "Obligation").objects.visible_to(user)
        return self.filter(entry__obligation__in=obligations)


class Evidence(models.Model):
    """One file attached to an entry. Added and removed only by reporting.services.evidence."""

    entry = models.ForeignKey("reporting.Entry", on_delete=models.CASCADE, related_name="evidence", verbose_name=_("填報資料"))
    file = models.FileField(_("檔案"), storage=evidence_storage, upload_to=evidence_stored_name, max_length=200)
    name = models.CharField(_("原始檔名"), max_length=255)
    kind = models.CharField(_("檔案類型"), max_length=10, choices=KIND_CHOICES)
    content_type = models.CharField(_("內容類型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（位元組）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("上傳者"))
    uploaded_at = models.DateTimeField(_("上傳時間"), default=timezone.now)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("佐證資料")
        verbose_name_plural = _("佐證資料")
        ordering = ["entry", "uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="evidence_not_empty", violation_error_message=_("佐證檔案不可為空檔案。")),
            models.CheckConstraint(condition=~Q(name=""), name="evidence_name_required", violation_error_message=_("佐證檔案須有檔名。")),
            models.UniqueConstraint(
                fields=["entry", "sha256"], name="evidence_once_per_entry",
                violation_error_message=_("這個檔案已附在這筆填報資料。"),
            ),
        ]

    def __str__(self):
        return self.name
