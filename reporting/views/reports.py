"""Annual reports: ask for one, watch it being compiled, publish it, download its files.

Thin views: who may see what is decided by ReportJob.objects.visible_to and
services.reports.job_files; the work is in services/reports.py and its tasks.
"""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from measures.years import parse_roc_year

from ..models_reports import AgencyReportItem, ReportFile, ReportJob
from ..selectors import obligation_years
from ..services import reports
from .dashboard_filters import current_roc_year_and_quarter

logger = logging.getLogger(__name__)


def _visible_job(request, pk) -> ReportJob:
    return get_object_or_404(ReportJob.objects.visible_to(request.user), pk=pk)


@require_GET
def report_list(request):
    """AAC: the request form and every job; NDC: published reports; an agency: its own
    files from the published per-agency reports."""
    if not request.user.has_any_role:
        raise PermissionDenied
    return _list_page(request, _jobs_with_files(request.user), _request_form_defaults(request))


def _list_page(request, jobs, form, status=200):
    return render(request, "reporting/reports/list.html", {
        "jobs": jobs[:200], "may_compile": reports.may_compile(request.user), "form": form,
        "kinds": ReportJob.Kind.choices, "quarters": [1, 2, 3, 4],
    }, status=status)


def _jobs_with_files(user):
    """Jobs the user may see, each with ``shown_files``: the report's own files (national
    files, the batch's zip) for national roles, an agency's own files for agency users."""
    if user.sees_every_agency:
        files = ReportFile.objects.filter(agency__isnull=True)
    else:
        files = ReportFile.objects.filter(agency_id=user.agency_id) if user.agency_id else ReportFile.objects.none()
    return (
        ReportJob.objects.visible_to(user).select_related("requested_by")
        .prefetch_related(Prefetch("files", queryset=files.in_reading_order(), to_attr="shown_files"))
    )


def _request_form_defaults(request, **overrides):
    years = obligation_years()
    current, _quarter = current_roc_year_and_quarter()
    default_year = next((year for year in years if year < current), years[0] if years else current)
    return {"years": years, "year": default_year, "quarter": 4, "kind": ReportJob.Kind.NATIONAL, **overrides}


@require_POST
def report_request(request):
    if not reports.may_compile(request.user):
        raise PermissionDenied
    kind = request.POST.get("kind", ReportJob.Kind.NATIONAL)
    raw_year, raw_quarter = request.POST.get("year", "").strip(), request.POST.get("quarter", "4").strip()
    form = _request_form_defaults(request, kind=kind, quarter=raw_quarter, cutoff_reason=request.POST.get("cutoff_reason", ""))
    try:
        year = parse_roc_year(raw_year)
    except ValueError as error:
        return _form_again(request, form, _("年度：%(error)s") % {"error": error})
    form["year"] = year
    if raw_quarter not in {"1", "2", "3", "4"}:
        return _form_again(request, form, _("季別「%(value)s」無效，請選第 1 至第 4 季。") % {"value": raw_quarter})
    cutoff_reason = request.POST.get("cutoff_reason", "").strip()
    if request.POST.get("cutoff") == "1" and not cutoff_reason:
        form["draft_reasons"] = reports.report_readiness_reasons(year=year, quarter=int(raw_quarter))
        return _form_again(request, form, _("以截止點產製正式版須填寫截止理由。"))
    try:
        job, created = reports.report_request(
            user=request.user, kind=kind, year=year, quarter=int(raw_quarter), draft=request.POST.get("draft") == "1",
            cutoff_reason=cutoff_reason if request.POST.get("cutoff") == "1" else "",
        )
    except reports.NotReady as not_ready:
        form["draft_reasons"] = not_ready.reasons
        # Not a bad request: a question back (a draft, and why), answered on the same page.
        return _form_again(request, form, _("這份報告目前只能產製草稿，原因如下；確認後請按「產製草稿」。"), status=200)
    except reports.ReportError as error:
        return _form_again(request, form, str(error))
    if created:
        messages.success(request, _("已開始產製「%(job)s」，完成前您可以離開此頁，稍後再回來下載。") % {"job": job})
    else:
        messages.info(request, _("同一份報告已在產製中，已為您開啟該工作，不會重複產製。"))
    return redirect("reports:detail", job.pk)


def _form_again(request, form, message, *, status=400):
    """The list page again with what was chosen kept and the problem named."""
    messages.warning(request, message)
    return _list_page(request, _jobs_with_files(request.user), form, status=status)


@require_GET
def report_detail(request, pk):
    job = _visible_job(request, pk)
    files = reports.job_files(job, user=request.user)  # an agency user: their own agency's files only
    national_view = request.user.sees_every_agency
    failed = None
    if job.kind == ReportJob.Kind.AGENCY_BATCH and national_view:
        failed = list(job.items.filter(state=AgencyReportItem.State.FAILED).select_related("agency")[:500])
    return render(request, "reporting/reports/detail.html", {
        "job": job, "files": files.filter(agency__isnull=True) if national_view else files,
        "agency_files_count": files.filter(agency__isnull=False).count() if national_view else 0,
        "failed": failed, "may_compile": reports.may_compile(request.user),
    })


@require_GET
def report_status(request, pk):
    """Polled by the job page every few seconds."""
    return JsonResponse(reports.job_summary(_visible_job(request, pk)))


@require_GET
def report_agency_files(request, pk):
    """Every agency's files of a batch (AAC, NDC, administrators), searchable by name."""
    job = _visible_job(request, pk)
    if not request.user.sees_every_agency:
        raise PermissionDenied
    files = reports.job_files(job, user=request.user).filter(agency__isnull=False)
    query = request.GET.get("q", "").strip()
    if query:
        files = files.filter(agency__name__icontains=query)
    return render(request, "reporting/reports/agency_files.html", {"job": job, "files": files[:400], "query": query, "total": files.count()})


@require_POST
def report_publish(request, pk):
    job = _visible_job(request, pk)
    try:
        reports.report_publish(user=request.user, job=job)
    except reports.ReportError as error:
        messages.warning(request, str(error))
    else:
        messages.success(request, _("已發布第 %(version)s 版，國發會評核人與各機關即可下載。") % {"version": job.version})
    return redirect("reports:detail", job.pk)


@require_POST
def report_rerun(request, pk):
    job = _visible_job(request, pk)
    try:
        count = reports.agency_batch_rerun_failed(user=request.user, job=job)
    except reports.ReportError as error:
        messages.warning(request, str(error))
    else:
        messages.success(request, _("已重新產製 %(n)d 個失敗的機關報告；其他機關的報告不會重做。") % {"n": count})
    return redirect("reports:detail", job.pk)


@require_GET
def report_download(request, pk):
    report_file = get_object_or_404(ReportFile.objects.select_related("job"), pk=pk)
    job = get_object_or_404(ReportJob.objects.visible_to(request.user), pk=report_file.job_id)
    if not reports.job_files(job, user=request.user).filter(pk=report_file.pk).exists():
        raise Http404(_("找不到這個報告檔案。"))
    if not reports.file_verified(report_file):
        logger.error("Report file %s (%s) does not match its recorded checksum", report_file.pk, report_file.file.name)
        raise Http404(_("這個報告檔案已損毀或遺失，請重新產製報告。"))
    response = FileResponse(report_file.file.storage.open(report_file.file.name, "rb"), content_type=_CONTENT_TYPES[report_file.format])
    response["Content-Disposition"] = content_disposition_header(True, report_file.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Checksum-SHA256"] = report_file.sha256
    return response


_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "zip": "application/zip",
}
