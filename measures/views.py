from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from agencies.models import Role
from anticorruption.uploads import UploadStash

from . import selectors, services
from .exporters import EXPORTERS
from .lineage import previous_version, stored_lineage
from .plan_import import PlanImportError, UnmappedFiguresError, plan_import
from .years import parse_roc_year


def home(request):
    plan = selectors.plan_current()
    if plan is None:
        return render(request, "measures/no_plan.html")
    return redirect(plan)


def _value_year(request, plan) -> dict:
    """The year whose target values the page shows (?year=, ROC), and the years to switch to."""
    asked = None
    if raw := request.GET.get("year"):
        try:
            asked = parse_roc_year(raw)
        except ValueError as error:
            messages.warning(request, str(error))
    years = selectors.plan_value_years(plan=plan)
    if asked is not None and asked not in years:
        messages.warning(request, _("民國%(year)d年尚無已核定公布的目標值。") % {"year": asked})
    return {"value_year": selectors.plan_value_year(plan=plan, asked=asked, years=years), "value_years": years}


def plan_overview(request, code):
    plan = selectors.plan_get(code=code)
    year = _value_year(request, plan)
    return render(
        request,
        "measures/plan_overview.html",
        {
            "plan": plan,
            "goals": plan.goals.all(),
            "outline": selectors.plan_outline(plan=plan),
            "totals": selectors.plan_totals(plan=plan, year=year["value_year"]),
            "exporters": EXPORTERS.values(),
            "can_import": request.user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR),
            "previous_version": previous_version(code=plan.code, first_year=plan.first_year),
            **year,
        },
    )


def strategy_detail(request, code, pk):
    plan = selectors.plan_get(code=code)
    strategy = selectors.strategy_get(plan=plan, pk=pk)
    year = _value_year(request, plan)
    return render(
        request,
        "measures/strategy_detail.html",
        {"plan": plan, "strategy": strategy, "measures": selectors.strategy_measures(strategy=strategy, year=year["value_year"]), **year},
    )


def measure_detail(request, code, pk):
    plan = selectors.plan_get(code=code)
    year = _value_year(request, plan)
    measure = selectors.measure_get(plan=plan, pk=pk, year=year["value_year"])
    previous_measure, next_measure = selectors.measure_neighbours(measure=measure)
    return render(
        request,
        "measures/measure_detail.html",
        {
            "plan": plan, "measure": measure, "strategy": measure.strategy, "previous_measure": previous_measure, "next_measure": next_measure,
            "can_revise": request.user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR), **year,
        },
    )


def plan_search(request, code):
    plan = selectors.plan_get(code=code)
    query = request.GET.get("q", "").strip()
    too_long = len(query) > 100
    results = selectors.plan_search(plan=plan, query=query) if query and not too_long else []
    return render(
        request,
        "measures/search.html",
        {
            "plan": plan,
            "query": query,
            "terms": sorted({variant for term in selectors.search_terms(query) for variant in selectors.search_variants(term)}),
            "results": results,
            "error": _("搜尋字串太長（最多 100 字）。") if too_long else "",
        },
    )


def agency_list(request, code):
    plan = selectors.plan_get(code=code)
    return render(request, "measures/agency_list.html", {"plan": plan, "agencies": selectors.agencies_in_plan(plan=plan)})


def agency_detail(request, code, pk):
    plan = selectors.plan_get(code=code)
    agency = selectors.agency_get(pk=pk)
    return render(
        request,
        "measures/agency_detail.html",
        {"plan": plan, "agency": agency, "duties": selectors.agency_duties(plan=plan, agency=agency)},
    )


def plan_export(request, code, fmt):
    plan = selectors.plan_get(code=code)
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise Http404(_("不支援的匯出格式。"))
    export = exporter.render(plan)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


def key_items(request, code):
    """NDC assessors mark the year's key items (院列管); everyone else reads them."""
    plan = selectors.plan_get(code=code)
    years = plan.years_covered()
    default_year = selectors.plan_value_year(plan=plan) or years[0]
    year = default_year
    if raw_year := request.GET.get("year") or request.POST.get("year"):
        try:
            year = parse_roc_year(raw_year)
        except ValueError as error:
            messages.warning(request, str(error))
        else:
            if year not in years:
                messages.warning(request, _("民國%(year)d年不在此方案版本的適用年度內。") % {"year": year})
                year = default_year
    can_edit = services.can_mark_key_items(request.user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有國發會評核人或系統管理者可標記院列管項目。"))
        try:
            chosen = {int(pk) for pk in request.POST.getlist("measures")}
            added, removed = services.key_items_set(plan=plan, year=year, measure_ids=chosen, user=request.user)
        except (ValueError, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("已更新民國%(year)d年院列管項目：新增 %(added)d 項、移除 %(removed)d 項。") % {"year": year, "added": added, "removed": removed})
            return redirect(f"{request.path}?year={year}")
    return render(
        request,
        "measures/key_items.html",
        {"plan": plan, "year": year, "years": years, "can_edit": can_edit, "measures": selectors.measures_with_key_marks(plan=plan, year=year)},
    )


# ------------------------------------------------------------------ plan files back in

PLAN_UPLOADS = UploadStash("plan_file_uploads")
MAX_PLAN_BYTES = 20 * 2**20


def _require_plan_manager(user):
    if not user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("只有廉政署審查人或系統管理者可以匯入方案檔。"))


def plan_upload(request):
    """AAC and administrators upload a plan file export_plan wrote; the next page previews it."""
    _require_plan_manager(request.user)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("請選擇要匯入的方案檔（export_plan 或「匯出」下載的 JSON）。")
        elif upload.size > MAX_PLAN_BYTES:
            error = _("檔案超過 %(limit)d MB，不是本系統匯出的方案檔。") % {"limit": MAX_PLAN_BYTES // 2**20}
        elif not upload.name.lower().endswith((".json", ".xlsx", ".ods")):
            error = _("「%(name)s」不是本系統匯出的方案檔；請上傳「匯出」下載的 JSON、XLSX 或 ODS 檔。") % {"name": upload.name}
        else:
            token = PLAN_UPLOADS.put(request, name=upload.name[:100], content=upload.read())
            return redirect("measures:import_preview", token=token)
    return render(request, "measures/plan_upload.html", {"error": error}, status=400 if error else 200)


def _lineage_choices(post) -> dict | None:
    """AAC's matching from the preview's selects: lineage-measures:<ref> = old ref or ""."""
    choices = {"measures": {}, "indicators": {}}
    for name, value in post.items():
        kind, _sep, reference = name.partition(":")
        if kind in ("lineage-measures", "lineage-indicators") and reference:
            choices[kind.removeprefix("lineage-")][reference] = value or None
    return choices if choices["measures"] or choices["indicators"] else None


def plan_import_preview(request, token):
    """GET: what the file would change, before → after, and the proposed matching with the
    version before. POST: preview again with AAC's matching, or apply all of it or nothing."""
    _require_plan_manager(request.user)
    upload = PLAN_UPLOADS.get(request, token)
    content = PLAN_UPLOADS.content(upload)
    apply = request.method == "POST" and request.POST.get("action", "apply") == "apply"
    choices = _lineage_choices(request.POST) if request.method == "POST" else None
    context = {"upload": upload, "token": token}
    try:
        result = plan_import(content=content, filename=upload["name"], apply=apply, lineage=choices, user=request.user)
    except UnmappedFiguresError as error:
        return render(request, "measures/plan_import_preview.html", {**context, "problems": error.problems, "lineage": error.proposal}, status=400)
    except PlanImportError as error:
        return render(request, "measures/plan_import_preview.html", {**context, "problems": error.problems, "lineage": None}, status=400)
    if apply:
        PLAN_UPLOADS.forget(request, token)
        diff = result.diff
        message = _("已匯入「%(name)s」：新增 %(added)d、修改 %(changed)d、移除 %(removed)d 項。") % {
            "name": upload["name"], "added": diff.count("added"), "changed": diff.count("changed"), "removed": diff.count("removed"),
        }
        if result.lineage_added or result.lineage_removed:
            message += _("沿革對應新增 %(added)d、移除 %(removed)d 筆。") % {"added": result.lineage_added, "removed": result.lineage_removed}
        messages.success(request, message)
        return redirect(result.plan)
    return render(request, "measures/plan_import_preview.html", {
        **context, "diff": result.diff, "lineage": result.lineage,
        "lineage_changes": result.lineage_added + result.lineage_removed,
    })


def plan_changes(request, code):
    """The version against the version before: what continues what, reworded, new, dropped."""
    plan = selectors.plan_get(code=code)
    return render(request, "measures/plan_changes.html", {"plan": plan, "lineage": stored_lineage(plan), "show_all": request.GET.get("all") == "1"})
