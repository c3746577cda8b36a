"""Compiling reports: request (joining one already under way), run, finish, publish,
rerun the agencies that failed, and give up on runs whose worker died.

Every state change is a guarded update inside a transaction, so a redelivered task or a
second worker never runs a finished job again. Files are written beside their final
name and moved into place only when complete, and registered (with size and SHA-256)
only when the job finishes: a failed or interrupted run never offers a partial file.
"""

import datetime
import hashlib
import logging
import os
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Role

from ..models_reports import AgencyReportItem, ReportFile, ReportJob, report_storage
from ..queueing import task as queued_task
from .obligations import ObligationError, plan_for_year

logger = logging.getLogger(__name__)

# Errors worth another try (the database or broker went away for a moment); anything
# else is a fault in the data or the code, recorded on the job at once.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


class ReportError(ValueError):
    """A request that cannot be made; the message is for the user."""


@dataclass
class NotReady(ReportError):
    """The report can only be a draft; ``reasons`` say why."""

    reasons: list[str] = field(default_factory=list)

    def __str__(self):
        return "；".join(self.reasons)


def may_compile(user) -> bool:
    return user.is_authenticated and user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR)


# ------------------------------------------------------------------ request


def report_readiness_reasons(*, year: int, quarter: int) -> list[str]:
    from ..selectors.annual_report import report_readiness

    return report_readiness(year=year, quarter=quarter)


def report_request(*, user, kind: str, year: int, quarter: int = 4, draft: bool = False, cutoff_reason: str = "") -> tuple[ReportJob, bool]:
    """Queue a report, or join the same one already queued or running.

    Returns (job, created). Raises NotReady when the data allow only a draft and neither
    ``draft`` nor a ``cutoff_reason`` was given, ReportError for a year without a plan.
    With a ``cutoff_reason`` AAC issues a final national report all the same: the entries not
    approved when it is compiled are left out and listed in its annex, and the decision (who,
    when, why) is printed on its cover and kept on the job.
    """
    from ..selectors.annual_report import report_readiness

    if not may_compile(user):
        raise PermissionDenied
    if kind not in ReportJob.Kind.values:
        raise ReportError(_("不明的報告種類「%(kind)s」。") % {"kind": kind})
    if quarter not in (1, 2, 3, 4):
        raise ReportError(_("季別須為 1 至 4。"))
    try:
        plan_for_year(year)
    except ObligationError as error:
        from ..selectors.target_setting import year_without_values_message

        raise ReportError(year_without_values_message(year=year) or str(error)) from None
    reasons = report_readiness(year=year, quarter=quarter)
    cutoff_reason = (cutoff_reason or "").strip()
    if cutoff_reason and kind != ReportJob.Kind.NATIONAL:
        raise ReportError(_("以截止點產製正式版只適用於全國彙整報告；各機關報告仍須待資料全部核定。"))
    if cutoff_reason and not reasons:
        cutoff_reason = ""  # everything is approved: the report is simply final
    if reasons and not draft and not cutoff_reason:
        raise NotReady(reasons=reasons)
    is_draft = bool(reasons) and not cutoff_reason  # a draft asked for when nothing is missing is simply the report
    key = ReportJob.key_for(kind=kind, year=year, quarter=quarter, draft=is_draft)
    with transaction.atomic():
        running = ReportJob.objects.select_for_update().filter(dedupe_key=key).active().first()
        if running is not None:
            return running, False
        try:
            with transaction.atomic():
                job = ReportJob.objects.create(
                    kind=kind, year=year, quarter=quarter, draft=is_draft, draft_reasons=reasons, dedupe_key=key,
                    requested_by=user, progress_text=_("等待工作程序處理"), cutoff_reason=cutoff_reason,
                )
        except IntegrityError:  # another request won the race: join it
            return ReportJob.objects.filter(dedupe_key=key).active().get(), False
        transaction.on_commit(lambda: _enqueue("run_report", job.pk))
    return job, True


def _enqueue(task_name: str, *args):
    """Send a task to the workers; without a broker (the demo) run it in a thread of this
    process, so the page still returns at once and shows the job's progress."""
    task = queued_task(task_name)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
    elif settings.REPORT_JOBS_IN_THREAD:
        threading.Thread(target=_run_in_thread, args=(task, args), daemon=True, name=f"report-{task_name}").start()
    else:
        _run_inline(task, args)


def _run_inline(task, args):
    """As a worker would: retries on transient errors, the task's failure handler at the
    end (an eager task that propagated its error would skip both)."""
    task.apply(args=args, throw=False)


def _run_in_thread(task, args):
    try:
        _run_inline(task, args)
    finally:
        connections.close_all()


# ------------------------------------------------------------------ running


def _claim(job_id: int) -> ReportJob | None:
    """Mark the job running (again, after a retry or redelivery); None when it is already
    finished, so a task delivered twice does nothing the second time."""
    now = timezone.now()
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not job.is_active:
            return None
        job.state, job.attempts, job.heartbeat_at = ReportJob.State.RUNNING, job.attempts + 1, now
        job.started_at = job.started_at or now
        job.save(update_fields=["state", "attempts", "heartbeat_at", "started_at"])
    return job


def _progress(job: ReportJob, percent: int, text: str):
    """Progress and a heartbeat, committed at once so the page (and the stale-job sweep) see it."""
    ReportJob.objects.filter(pk=job.pk, state=ReportJob.State.RUNNING).update(progress=percent, progress_text=text, heartbeat_at=timezone.now())


def report_run(*, job_id: int):
    """The task's work. Transient errors propagate (the task retries); any other error is
    recorded on the job, which then fails."""
    job = _claim(job_id)
    if job is None:
        return
    try:
        if job.kind == ReportJob.Kind.NATIONAL:
            _national_build(job)
        else:
            _agency_batch_start(job)
    except TRANSIENT_ERRORS:
        _discard_partial_files(job)
        raise
    except Exception as error:  # noqa: BLE001 - any fault ends the job with its reason
        logger.exception("report job %s failed", job.pk)
        report_fail(job_id=job.pk, error=error)


def report_fail(*, job_id: int, error) -> bool:
    """Record why a job failed and remove anything it wrote; False when it had already finished."""
    message = error if isinstance(error, str) else _describe(error)
    updated = ReportJob.objects.filter(pk=job_id, state__in=ReportJob.ACTIVE_STATES).update(
        state=ReportJob.State.FAILED, error=message, finished_at=timezone.now(), progress_text=_("產製失敗"),
    )
    job = ReportJob.objects.filter(pk=job_id).first()
    if updated and job is not None:
        _discard_partial_files(job)
        job.items.filter(state=AgencyReportItem.State.QUEUED).update(state=AgencyReportItem.State.FAILED, error=message)
    return bool(updated)


def _describe(error: Exception) -> str:
    """The reason shown on the job page: ours as written; anything else named as a fault
    for the administrators, with its technical detail."""
    if isinstance(error, ReportError):
        return str(error)
    return (_("產製時發生未預期的錯誤，請通知系統管理者（%(kind)s：%(detail)s）。") % {"kind": type(error).__name__, "detail": error})[:2000]


def _national_build(job: ReportJob):
    from ..exporters.annual_pdf import NationalReportPdf
    from ..exporters.annual_sheets import NationalReportWorkbook
    from ..selectors.annual_report import COMPILER, Cutoff, agency_detail_rows, national_report

    _progress(job, 5, _("讀取各機關填報資料"))
    with snapshot():
        cutoff = None
        if job.cutoff_reason:
            person = job.requested_by
            decided_by = f"{person.agency.name if person.agency else ''} {person.get_full_name() or person.username}".strip() if person else COMPILER
            cutoff = Cutoff(reason=job.cutoff_reason, decided_by=decided_by, decided_at=timezone.localtime(job.requested_at))
        report = national_report(year=job.year, quarter=job.quarter, draft_reasons=job.draft_reasons, cutoff=cutoff)
        details = agency_detail_rows(year=job.year, quarter=job.quarter)
    stem = _stem(job, report.meta.data_as_of)
    _progress(job, 25, _("產製 PDF"))
    outputs = [_write_part(job, None, "pdf", NationalReportPdf(report).render().content)]
    workbook = NationalReportWorkbook(report, details)
    _progress(job, 60, _("產製 Excel（XLSX）"))
    outputs.append(_write_part(job, None, "xlsx", workbook.render("xlsx").content))
    _progress(job, 75, _("產製 ODF 試算表（ODS）"))
    outputs.append(_write_part(job, None, "ods", workbook.render("ods").content))
    _finish(job, outputs, data_as_of=report.meta.data_as_of, stem=stem)


@contextmanager
def snapshot():
    """One snapshot for every read of a report (PostgreSQL REPEATABLE READ): figures and
    annex agree even while officers keep saving. Inside an outer transaction (tests) the
    isolation level can no longer change, and that transaction already holds one view."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


# ------------------------------------------------------------------ files


@dataclass
class PartFile:
    agency: Agency | None
    format: str
    path: str  # storage name of the complete ".part" file
    size: int
    sha256: str


def _job_folder(job: ReportJob) -> str:
    return f"{job.year}/{job.pk}"


def _write_part(job: ReportJob, agency: Agency | None, fmt: str, content: bytes) -> PartFile:
    """Write beside the final name and fsync; the move into place happens at finish."""
    name = f"{_job_folder(job)}/{'agencies/' + str(agency.pk) + '/' if agency else ''}{fmt}.part"
    path = report_storage.path(name)
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}"
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o640)
    os.replace(temporary, path)  # atomic: a ".part" is always complete
    return PartFile(agency=agency, format=fmt, path=name, size=len(content), sha256=hashlib.sha256(content).hexdigest())


def _stem(job: ReportJob, data_as_of: datetime.datetime) -> str:
    day = timezone.localtime(data_as_of).date()
    period = _("年度") if job.quarter == 4 else _("年截至第%(q)d季") % {"q": job.quarter}
    kind = _("執行成果") if job.kind == ReportJob.Kind.NATIONAL else _("各機關年度報告")
    draft = _("草稿_") if job.draft else ""
    return f"{draft}國家廉政建設行動方案_民國{job.year}{period}{kind}_{day:%Y%m%d}"


def _register(job: ReportJob, part: PartFile, filename: str) -> ReportFile:
    """Move a complete part to its final, versioned name and record it."""
    final = part.path.removesuffix(".part").rsplit("/", 1)[0] + "/" + filename
    os.replace(report_storage.path(part.path), report_storage.path(final))
    return ReportFile.objects.create(
        job=job, agency=part.agency, format=part.format, file=final, filename=filename, size=part.size, sha256=part.sha256,
    )


def _finish(job: ReportJob, parts: list[PartFile], *, data_as_of, stem: str):
    with transaction.atomic():
        locked = ReportJob.objects.select_for_update().get(pk=job.pk)
        if locked.state != ReportJob.State.RUNNING:
            # Failed meanwhile (declared stale), or finished by a twin task: these parts are spare.
            for part in parts:
                report_storage.delete(part.path)
            return
        version = (
            ReportJob.objects.filter(kind=job.kind, year=job.year, quarter=job.quarter, draft=job.draft, state=ReportJob.State.DONE)
            .aggregate(latest=Max("version"))["latest"] or 0
        ) + 1
        for part in parts:
            _register(locked, part, f"{stem}_第{version}版.{part.format}")
        locked.state, locked.version, locked.progress = ReportJob.State.DONE, version, 100
        locked.progress_text, locked.finished_at, locked.data_as_of = _("完成"), timezone.now(), data_as_of
        locked.heartbeat_at = locked.finished_at
        locked.save()


def _discard_partial_files(job: ReportJob):
    """Remove what a run that did not finish wrote: ".part" files, and any file moved into
    place by a worker that died before recording it. Recorded files stay."""
    recorded = {report_storage.path(name) for name in job.files.values_list("file", flat=True)}
    folder = report_storage.path(_job_folder(job))
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if path not in recorded:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass


def file_verified(report_file: ReportFile) -> bool:
    """The stored file is whole: its size and SHA-256 are those recorded at finish."""
    try:
        if report_storage.size(report_file.file.name) != report_file.size:
            return False
        digest = hashlib.sha256()
        with report_storage.open(report_file.file.name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == report_file.sha256


# ------------------------------------------------------------------ per-agency batch


def _agency_batch_start(job: ReportJob):
    """One item per agency that reports in the year, each built by its own task (spread
    over the workers); the last one to finish triggers the zip."""
    from ..selectors.annual_report import agencies_reporting

    agencies = list(agencies_reporting(year=job.year).values_list("pk", flat=True))
    if not agencies:
        raise ReportError(_("民國%(year)d年沒有任何機關有填報義務，無法產製各機關報告。") % {"year": job.year})
    AgencyReportItem.objects.bulk_create([AgencyReportItem(job=job, agency_id=pk) for pk in agencies], ignore_conflicts=True)
    _progress(job, 0, _("0／%(total)d 個機關") % {"total": len(agencies)})
    _items_enqueue(job)


def _items_enqueue(job: ReportJob):
    from celery import group

    pending = list(job.items.filter(state=AgencyReportItem.State.QUEUED).values_list("pk", flat=True))
    if not pending:
        _enqueue("finish_agency_batch", job.pk)
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for pk in pending:  # in-process: one after the other (we are already off the request)
            _run_inline(queued_task("build_agency_report"), (pk,))
        return
    group(queued_task("build_agency_report").s(pk) for pk in pending).apply_async()


def agency_item_build(*, item_id: int):
    """One agency's PDF and XLSX; a failure is recorded on the item, not the batch."""
    from ..exporters.annual_pdf import AgencyReportPdf
    from ..exporters.annual_sheets import AgencyReportWorkbook
    from ..selectors.annual_report import agency_report

    item = AgencyReportItem.objects.select_related("job", "agency").filter(pk=item_id).first()
    if item is None or item.state != AgencyReportItem.State.QUEUED or item.job.state != ReportJob.State.RUNNING:
        return  # done already, or the batch was given up
    job = item.job
    AgencyReportItem.objects.filter(pk=item.pk).update(attempts=item.attempts + 1)
    try:
        with snapshot():
            report = agency_report(agency=item.agency, year=job.year, quarter=job.quarter, draft_reasons=job.draft_reasons)
        parts = [
            _write_part(job, item.agency, "pdf", AgencyReportPdf(report).render().content),
            _write_part(job, item.agency, "xlsx", AgencyReportWorkbook(report).render("xlsx").content),
        ]
        stem = f"{_stem(job, report.meta.data_as_of)}_{item.agency.code or item.agency.pk}_{item.agency.name}"
        with transaction.atomic():
            if not AgencyReportItem.objects.filter(pk=item.pk, state=AgencyReportItem.State.QUEUED).update(
                state=AgencyReportItem.State.DONE, error="", finished_at=timezone.now()
            ):
                return
            for part in parts:
                _register(job, part, f"{stem}.{part.format}")
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001 - recorded on the item; the batch goes on
        logger.exception("agency report %s failed", item.pk)
        AgencyReportItem.objects.filter(pk=item.pk, state=AgencyReportItem.State.QUEUED).update(
            state=AgencyReportItem.State.FAILED, error=_describe(error), finished_at=timezone.now(),
        )
    _batch_progress(job)


def agency_item_fail(*, item_id: int, error) -> None:
    """A task that ran out of retries: the item fails, the batch goes on."""
    item = AgencyReportItem.objects.filter(pk=item_id).select_related("job").first()
    if item is None:
        return
    AgencyReportItem.objects.filter(pk=item_id, state=AgencyReportItem.State.QUEUED).update(
        state=AgencyReportItem.State.FAILED, error=error if isinstance(error, str) else _describe(error), finished_at=timezone.now(),
    )
    _batch_progress(item.job)


def _batch_progress(job: ReportJob):
    counts = dict(job.items.values_list("state").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    finished = counts.get(AgencyReportItem.State.DONE, 0) + counts.get(AgencyReportItem.State.FAILED, 0)
    failed = counts.get(AgencyReportItem.State.FAILED, 0)
    text = _("%(done)d／%(total)d 個機關") % {"done": finished, "total": total}
    if failed:
        text += _("（失敗 %(failed)d 個）") % {"failed": failed}
    _progress(job, min(99, finished * 100 // total) if total else 0, text)
    if total and finished == total:
        _enqueue("finish_agency_batch", job.pk)


def agency_batch_finish(*, job_id: int):
    """Every agency is done or failed: with no failure, zip the files and finish; else
    the batch fails naming the agencies, and a rerun redoes only those."""
    job = ReportJob.objects.filter(pk=job_id, state=ReportJob.State.RUNNING).first()
    if job is None or job.items.filter(state=AgencyReportItem.State.QUEUED).exists():
        return
    failed = list(job.items.filter(state=AgencyReportItem.State.FAILED).select_related("agency").values_list("agency__name", flat=True))
    if failed:
        shown = "、".join(failed[:20]) + (_("等") if len(failed) > 20 else "")
        report_fail(job_id=job.pk, error=_("%(n)d 個機關的報告產製失敗：%(names)s。可重新產製失敗的機關。") % {"n": len(failed), "names": shown})
        return
    _progress(job, 99, _("壓縮全部機關報告"))
    data_as_of = timezone.now()
    part = _zip_part(job)
    _finish(job, [part], data_as_of=data_as_of, stem=_stem(job, data_as_of))


def _zip_part(job: ReportJob) -> PartFile:
    """Every agency's files in one zip, written beside its final name (files are already
    compressed, so they are stored, not deflated: fast for 4,000 files)."""
    name = f"{_job_folder(job)}/zip.part"
    path = report_storage.path(name)
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}"
    digest, size = hashlib.sha256(), 0
    with open(temporary, "w+b") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            for report_file in ReportFile.objects.filter(job=job, agency__isnull=False).order_by("filename"):
                archive.write(report_storage.path(report_file.file.name), arcname=report_file.filename)
        handle.flush()
        os.fsync(handle.fileno())
        handle.seek(0)
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    os.chmod(temporary, 0o640)
    os.replace(temporary, path)
    return PartFile(agency=None, format="zip", path=name, size=size, sha256=digest.hexdigest())


def agency_batch_rerun_failed(*, user, job: ReportJob) -> int:
    """Queue again only the agencies whose report failed; returns how many."""
    if not may_compile(user):
        raise PermissionDenied
    with transaction.atomic():
        locked = ReportJob.objects.select_for_update().get(pk=job.pk)
        if locked.kind != ReportJob.Kind.AGENCY_BATCH or locked.state != ReportJob.State.FAILED:
            raise ReportError(_("只有產製失敗的各機關報告可以重新產製失敗的機關。"))
        if ReportJob.objects.filter(dedupe_key=locked.dedupe_key).active().exists():
            raise ReportError(_("同一份報告已在產製中，請待其完成。"))
        failed = locked.items.filter(state=AgencyReportItem.State.FAILED)
        count = failed.update(state=AgencyReportItem.State.QUEUED, error="", finished_at=None)
        if not count:
            raise ReportError(_("沒有失敗的機關需要重新產製。"))
        locked.state, locked.error, locked.finished_at, locked.heartbeat_at = ReportJob.State.RUNNING, "", None, timezone.now()
        locked.save(update_fields=["state", "error", "finished_at", "heartbeat_at"])
        transaction.on_commit(lambda: _enqueue("rerun_agency_items", locked.pk))
    return count


def agency_items_enqueue(*, job_id: int):
    job = ReportJob.objects.filter(pk=job_id, state=ReportJob.State.RUNNING).first()
    if job is not None:
        _items_enqueue(job)


# ------------------------------------------------------------------ publishing and stale runs


def report_publish(*, user, job: ReportJob) -> ReportJob:
    if not may_compile(user):
        raise PermissionDenied
    if job.state != ReportJob.State.DONE:
        raise ReportError(_("報告尚未完成，不能發布。"))
    if job.draft:
        raise ReportError(_("草稿不能發布；請待資料全部核定後重新產製，或由廉政署以截止點產製正式版。"))
    updated = ReportJob.objects.filter(pk=job.pk, state=ReportJob.State.DONE, draft=False, published_at__isnull=True).update(
        published_at=timezone.now(), published_by=user,
    )
    if not updated:
        raise ReportError(_("此版本已發布。"))
    job.refresh_from_db()
    return job


def reports_fail_stale(*, now: datetime.datetime | None = None) -> int:
    """Jobs whose worker stopped reporting (killed, machine lost) fail with the reason,
    instead of showing "running" forever; their partial files are removed."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(minutes=settings.REPORT_JOB_STALE_MINUTES)
    stale = ReportJob.objects.filter(state=ReportJob.State.RUNNING).filter(Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True))
    count = 0
    for job_id in stale.values_list("pk", flat=True):
        message = _("工作程序中斷（超過 %(minutes)d 分鐘沒有回報進度），請重新產製。") % {"minutes": settings.REPORT_JOB_STALE_MINUTES}
        count += report_fail(job_id=job_id, error=message)
    return count


def job_files(job: ReportJob, *, user):
    """The files of a job the user may download: everything for AAC, NDC and
    administrators; an agency user only their own agency's files."""
    files = job.files.select_related("agency").in_reading_order()
    if user.sees_every_agency:
        return files
    return files.filter(agency_id=user.agency_id) if user.agency_id else files.none()


def job_summary(job: ReportJob) -> dict:
    """What the polling page needs."""
    counts = dict(job.items.values_list("state").annotate(n=Count("pk")).order_by()) if job.kind == ReportJob.Kind.AGENCY_BATCH else {}
    return {
        "id": job.pk, "state": job.state, "state_label": str(job.get_state_display()), "progress": job.progress,
        "progress_text": job.progress_text, "error": job.error, "active": job.is_active,
        "items": {state: counts.get(state, 0) for state in AgencyReportItem.State.values} if counts else None,
    }
