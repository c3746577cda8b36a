"""Adding and removing evidence files on an entry.

Guarded like the entry workflow: the entry row is locked, and inside that
transaction the actor must be the agency's officer, the entry editable
(draft/returned) and its period open to changes. Each change writes one
EntryEvent naming the file, so the history shows what was attached when.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from agencies.models import Role
from agencies.selectors import is_agency_member

from ..evidence import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, EvidenceError, check_evidence_file
from ..models import Entry, EntryEvent, Evidence
from .entries import EDITABLE_STATES, WorkflowError, period_accepts_changes


def evidence_max_bytes() -> int:
    return getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)


def evidence_max_files() -> int:
    return getattr(settings, "EVIDENCE_MAX_FILES", DEFAULT_MAX_FILES)


def _guard(entry: Entry, user) -> None:
    if not is_agency_member(user, entry.obligation.agency_id, Role.OFFICER):
        raise PermissionDenied(_("只有本機關的填報人可以新增或刪除佐證資料。"))
    if entry.state not in EDITABLE_STATES:
        raise WorkflowError(_("這筆資料目前為「%(state)s」，不能新增或刪除佐證資料。") % {"state": entry.get_state_display()})
    if not period_accepts_changes(entry.period, entry.obligation.agency_id):
        raise WorkflowError(_("%(period)s 已鎖定，不能新增或刪除佐證資料；如需補正請洽廉政署重新開放。") % {"period": entry.period.label})


def evidence_change_refusal(*, entry: Entry, user) -> str:
    """Why ``user`` may not add or remove evidence on ``entry`` now; empty when they may.

    The same rule the services enforce, for pages that decide whether to offer the form.
    """
    try:
        _guard(entry, user)
    except (PermissionDenied, WorkflowError) as error:
        return " ".join(getattr(error, "messages", [str(error)]))
    return ""


def _locked(entry: Entry) -> Entry:
    return Entry.objects.select_for_update().select_related("obligation", "period").get(pk=entry.pk)


def _log(entry: Entry, user, action, name: str) -> None:
    EntryEvent.objects.create(entry=entry, actor=user, action=action, from_state=entry.state, to_state=entry.state, comment=name)


@transaction.atomic
def evidence_add(*, entry: Entry, user, upload) -> Evidence:
    """Attach ``upload`` (a Django File, e.g. an UploadedFile) to ``entry``.

    Raises PermissionDenied, WorkflowError or EvidenceError; nothing is written
    to the disk or the database unless every check passed.
    """
    entry = _locked(entry)
    _guard(entry, user)
    checked = check_evidence_file(upload, name=upload.name or "", max_bytes=evidence_max_bytes())
    existing = list(entry.evidence.only("name", "sha256"))
    if len(existing) >= evidence_max_files():
        raise EvidenceError(_("每筆填報資料最多附 %(count)d 個佐證檔案；請先刪除不需要的檔案。") % {"count": evidence_max_files()}, code="too_many")
    if same := next((e for e in existing if e.sha256 == checked.sha256), None):
        raise EvidenceError(_("這個檔案已經上傳過了（「%(name)s」）。") % {"name": same.name}, code="duplicate")
    evidence = Evidence(
        entry=entry, name=checked.name, kind=checked.kind, content_type=checked.content_type,
        size=checked.size, sha256=checked.sha256, uploaded_by=user,
    )
    upload.seek(0)
    evidence.file.save("evidence", upload, save=False)
    try:
        evidence.save()
        _log(entry, user, EntryEvent.Action.EVIDENCE_ADDED, evidence.name)
    except BaseException:
        # The row did not make it; the file must not outlive it.
        evidence.file.storage.delete(evidence.file.name)
        raise
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, user) -> None:
    entry = _locked(evidence.entry)
    _guard(entry, user)
    evidence = Evidence.objects.select_for_update().filter(pk=evidence.pk, entry=entry).first()
    if evidence is None:
        raise WorkflowError(_("這個佐證檔案已被刪除。"))
    name, storage, stored = evidence.name, evidence.file.storage, evidence.file.name
    evidence.delete()
    _log(entry, user, EntryEvent.Action.EVIDENCE_REMOVED, name)
    # Only once the removal is committed: a rollback must find the file still there.
    transaction.on_commit(lambda: storage.delete(stored))
