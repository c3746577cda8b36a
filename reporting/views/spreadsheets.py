"""Bulk entry by spreadsheet: download the quarter's sheet, upload it, preview, apply.

The uploaded file waits between the preview and the apply in the session
(anticorruption/uploads.py). On apply the file is read and checked again from
scratch: anything saved in between shows up as a stale version.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from agencies.models import Agency, Role
from anticorruption.spreadsheets import SheetFileError, sheet_format
from anticorruption.uploads import UploadStash

from ..models import ReportingPeriod
from ..spreadsheets import EXPORTERS, MAX_UPLOAD_BYTES, sheet_apply, sheet_check

UPLOADS = UploadStash("entry_sheet_uploads")  # a new upload replaces the one waiting


class SheetUploadForm(forms.Form):
    file = forms.FileField(
        label=_lazy("填好的試算表"),
        help_text=format_lazy(_lazy("本系統下載的 .xlsx 或 .ods 檔，{} MB 以內。"), MAX_UPLOAD_BYTES // 2**20),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.ods"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("檔案超過 %(limit)d MB；一個機關一季的填報表不會這麼大，請確認是否選錯檔案。") % {"limit": MAX_UPLOAD_BYTES // 2**20})
        content = upload.read()
        try:
            sheet_format(content)
        except SheetFileError as error:
            raise ValidationError(str(error)) from None
        return content


def _require_officer(user):
    # entry_save lets only the agency's own officers write; the pages follow it.
    if not (user.has_role(Role.OFFICER) and user.agency_id):
        raise PermissionDenied(_("只有機關的填報人可以上傳填報資料。"))


def sheet_download(request, agency, year, quarter, fmt):
    """Everyone who may see the agency may download its sheet."""
    agency = get_object_or_404(Agency.objects.visible_to(request.user), pk=agency)
    exporter = EXPORTERS.get(fmt)
    if exporter is None or not 1 <= quarter <= 4 or not ReportingPeriod.objects.filter(year=year).exists():
        raise Http404(_("沒有這個年度、季別或格式的填報表。"))
    export = exporter.render(agency=agency, year=year, quarter=quarter)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


def sheet_upload(request):
    _require_officer(request.user)
    form = SheetUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = UPLOADS.put(request, name=request.FILES["file"].name[:100], content=form.cleaned_data["file"])
        return redirect("reporting:sheet_preview", token=token)
    return render(request, "reporting/spreadsheet_upload.html", {"form": form, "agency": request.user.agency})


def sheet_preview(request, token):
    """GET: what the file would change, every error named by row and column.
    POST: apply it — all rows or none."""
    _require_officer(request.user)
    upload = UPLOADS.get(request, token)
    content = UPLOADS.content(upload)
    if request.method == "POST":
        plan = sheet_apply(user=request.user, content=content)
        if plan.applied:
            UPLOADS.forget(request, token)
            counts = plan.counts
            if counts["new"] or counts["changed"]:
                messages.success(request, _("已套用「%(name)s」：新增 %(new)d 筆、修改 %(changed)d 筆，%(unchanged)d 列未變更。") % {"name": upload["name"], **counts})
            else:
                messages.info(request, _("「%(name)s」沒有需要寫入的變更。") % {"name": upload["name"]})
            return redirect(_items_url(plan))
        messages.error(request, _("沒有寫入任何資料：檔案在檢查時發現錯誤（可能是預覽後有人修改了同一筆資料）。請修正後重新上傳。"))
    else:
        plan = sheet_check(user=request.user, content=content)
    return render(request, "reporting/spreadsheet_preview.html", {"sheet": plan, "upload": upload, "token": token, "agency": request.user.agency})


def _items_url(plan) -> str:
    """The officer's page at the quarter the file was for."""
    period = next((row.period for row in plan.rows if row.period is not None), None)
    url = reverse("reporting:my_items")
    if period is None:
        return url
    return f"{url}?year={period.year}&quarter={(period.months[1] + 2) // 3}"
