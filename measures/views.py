from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from . import selectors
from .exporters import EXPORTERS


def home(request):
    plan = selectors.plan_current()
    if plan is None:
        return render(request, "measures/no_plan.html")
    return redirect(plan)


def plan_overview(request, code):
    plan = selectors.plan_get(code=code)
    return render(
        request,
        "measures/plan_overview.html",
        {
            "plan": plan,
            "goals": plan.goals.all(),
            "outline": selectors.plan_outline(plan=plan),
            "totals": selectors.plan_totals(plan=plan),
            "exporters": EXPORTERS.values(),
        },
    )


def strategy_detail(request, code, pk):
    plan = selectors.plan_get(code=code)
    strategy = selectors.strategy_get(plan=plan, pk=pk)
    return render(
        request,
        "measures/strategy_detail.html",
        {"plan": plan, "strategy": strategy, "measures": selectors.strategy_measures(strategy=strategy)},
    )


def measure_detail(request, code, pk):
    plan = selectors.plan_get(code=code)
    measure = selectors.measure_get(plan=plan, pk=pk)
    previous_measure, next_measure = selectors.measure_neighbours(measure=measure)
    return render(
        request,
        "measures/measure_detail.html",
        {"plan": plan, "measure": measure, "strategy": measure.strategy, "previous_measure": previous_measure, "next_measure": next_measure},
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
