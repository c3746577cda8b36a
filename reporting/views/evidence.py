"""Evidence files on an entry: upload, remove, download, and the panel the entry pages include.

Every lookup goes through the user's scope (entry_for_user, Evidence.visible_to),
so another agency's entry or file answers 404, never 403.
"""

import logging
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from agencies.models import Role

from .. import selectors_entries as selectors
from ..evidence import ACCEPT_ATTRIBUTE, EvidenceError, allowed_summary, extension_of, format_size, too_large_message
from ..models import Entry, Evidence
from ..services import evidence as services

logger = logging.getLogger(__name__)


@dataclass
class EvidencePanel:
    """What templates/reporting/_evidence.html shows for one entry and one user."""

    entry: Entry | None  # None on the form of an entry not saved yet
    items: list
    can_change: bool
    note: str  # why the agency's officer cannot change the files now
    next_url: str
    accept: str = ACCEPT_ATTRIBUTE

    @property
    def help_text(self) -> str:
        return _("可上傳 %(allowed)s，每個檔案不超過 %(limit)s。") % {"allowed": allowed_summary(), "limit": format_size(services.evidence_max_bytes())}


def evidence_panel(request, entry: Entry | None) -> EvidencePanel:
    """Context for the include: ``{"evidence_panel": evidence_panel(request, entry)}``."""
    if entry is None:
        return EvidencePanel(entry=None, items=[], can_change=False, note="", next_url=request.get_full_path())
    refusal = services.evidence_change_refusal(entry=entry, user=request.user)
    is_officer = request.user.has_role(Role.OFFICER) and request.user.agency_id == entry.obligation.agency_id
    return EvidencePanel(
        entry=entry,
        items=list(entry.evidence.select_related("uploaded_by")),
        can_change=not refusal,
        note=refusal if is_officer else "",
        next_url=request.get_full_path(),
    )


class _SizeLimit(FileUploadHandler):
    """Stops reading an uploaded file once it passes the limit, so an oversized
    upload is never written out in full to a temporary file."""

    def __init__(self, request, max_bytes):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _back(request, entry: Entry):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("reporting:entry_detail", pk=entry.pk)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@csrf_exempt  # checked by _evidence_add, after the size limit is in place (Django's documented order)
@require_POST
def evidence_add(request, pk):
    limit = _SizeLimit(request, services.evidence_max_bytes())
    request.upload_handlers.insert(0, limit)
    return _evidence_add(request, pk, limit)


@csrf_protect
def _evidence_add(request, pk, limit):
    entry = selectors.entry_for_user(user=request.user, pk=pk)
    upload = request.FILES.get("file")
    try:
        if limit.exceeded:
            raise EvidenceError(too_large_message(limit.max_bytes), code="too_large")
        if upload is None:
            raise EvidenceError(_("請選擇要上傳的檔案。"), code="required")
        evidence = services.evidence_add(entry=entry, user=request.user, upload=upload)
    except ValidationError as error:  # EvidenceError and WorkflowError
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("已新增佐證資料「%(name)s」。") % {"name": evidence.name})
    return _back(request, entry)


@require_POST
def evidence_remove(request, pk):
    evidence = get_object_or_404(Evidence.objects.visible_to(request.user).select_related("entry"), pk=pk)
    try:
        services.evidence_remove(evidence=evidence, user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("已刪除佐證資料「%(name)s」。") % {"name": evidence.name})
    return _back(request, evidence.entry)


def _attachment(name: str, pk: int) -> str:
    # RFC 6266: a plain ASCII name for old clients, the real (e.g. Chinese) name in filename* (RFC 5987).
    ascii_name = name if name.isascii() and '"' not in name and "\\" not in name else f"evidence-{pk}.{extension_of(name) or 'bin'}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@require_safe
def evidence_download(request, pk):
    evidence = get_object_or_404(Evidence.objects.visible_to(request.user), pk=pk)
    try:
        handle = evidence.file.storage.open(evidence.file.name, "rb")
    except FileNotFoundError:
        logger.error("Evidence %s (%s) is missing from the storage", evidence.pk, evidence.file.name)
        raise Http404(_("找不到這個佐證檔案。")) from None
    response = FileResponse(handle, content_type=evidence.content_type)
    response["Content-Disposition"] = _attachment(evidence.name, evidence.pk)
    # Never rendered by the browser as this site's page, whatever the bytes say.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
