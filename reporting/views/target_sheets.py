"""The year's target sheet: download (a lead agency's, or every one's for AAC), upload,
preview, apply — all rows or none. Rows go through proposal_save, so who may change
what is the service's decision; the upload page is offered to officers only because
only a lead agency's officers may save its proposals."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from agencies.models import Role
from anticorruption.uploads import UploadStash

from ..selectors import target_setting as selectors
from ..target_sheets import EXPORTERS, sheet_apply, sheet_check
from .spreadsheets import SheetUploadForm

UPLOADS = UploadStash("target_sheet_uploads")


def _exporter(fmt):
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise Http404(_("沒有這種格式的目標值提報表。"))
    return exporter


def _respond(export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


def sheet_download(request, year, agency, fmt):
    """One lead agency's sheet, for everyone who may see that agency's proposals."""
    target_year = selectors.target_year_get(year=year)
    exporter = _exporter(fmt)
    agency = selectors.lead_agencies_visible(user=request.user, target_year=target_year).filter(pk=agency).first()
    if agency is None:
        raise Http404(_("找不到可檢視的主辦機關。"))
    return _respond(exporter.render(target_year=target_year, agency=agency))


def sheet_download_all(request, year, fmt):
    """Every lead agency's rows in one sheet: for the national roles."""
    if not request.user.sees_every_agency:
        raise PermissionDenied(_("只有廉政署與國發會人員可以下載全部機關的目標值提報表。"))
    target_year = selectors.target_year_get(year=year)
    return _respond(_exporter(fmt).render(target_year=target_year))


def _require_officer(user):
    if not (user.has_role(Role.OFFICER) and user.agency_id):
        raise PermissionDenied(_("只有主辦機關的填報人可以上傳目標值提報表。"))


def sheet_upload(request, year):
    _require_officer(request.user)
    target_year = selectors.target_year_get(year=year)
    form = SheetUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = UPLOADS.put(request, name=request.FILES["file"].name[:100], content=form.cleaned_data["file"])
        return redirect("targets:sheet_preview", year=year, token=token)
    return render(request, "reporting/targets/sheet_upload.html", {"form": form, "target_year": target_year, "agency": request.user.agency})


def sheet_preview(request, year, token):
    """GET: what the file would change, every error named by its cell. POST: apply it — all rows or none."""
    _require_officer(request.user)
    target_year = selectors.target_year_get(year=year)
    upload = UPLOADS.get(request, token)
    content = UPLOADS.content(upload)
    if request.method == "POST":
        plan = sheet_apply(user=request.user, year=year, content=content)
        if plan.applied:
            UPLOADS.forget(request, token)
            counts = plan.counts
            if counts["changed"]:
                messages.success(request, _("已套用「%(name)s」：修改 %(changed)d 項目標值，%(unchanged)d 列未變更。") % {"name": upload["name"], **counts})
            else:
                messages.info(request, _("「%(name)s」沒有需要寫入的變更。") % {"name": upload["name"]})
            return redirect("targets:agency", year, request.user.agency_id)
        messages.error(request, _("沒有寫入任何資料：檔案在檢查時發現錯誤（可能是預覽後有人修改了同一項目標值）。請修正後重新上傳。"))
    else:
        plan = sheet_check(user=request.user, year=year, content=content)
    return render(request, "reporting/targets/sheet_preview.html", {
        "sheet": plan, "upload": upload, "token": token, "target_year": target_year, "agency": request.user.agency,
    })
