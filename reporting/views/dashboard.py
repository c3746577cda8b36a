"""Completion dashboards: national, per strategy, measure, indicator and agency, and
reporting completeness. Thin views: filters → selectors → template or export."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Agency, Role
from measures.lineage import lineage_steps
from measures.models import Indicator, Measure, Strategy

from .. import tasks
from ..assessment import HEADLINE_STATUSES, RULE_TEXT, Status
from ..exporters import FORMAT_LABELS, TABLE_FORMATS
from ..exporters.dashboard import (
    AgencyObligationsExport,
    CompletenessExport,
    IndicatorAgenciesExport,
    StrategySummaryExport,
    ValueTableExport,
)
from ..models import ReportingPeriod
from ..selectors.completeness import Completion, completeness, periods_ending_in
from ..selectors.dashboard import dashboard, lead_agencies, scope_agencies
from ..selectors.drilldown import agency_obligations, indicator_agencies
from ..selectors.figures import indicator_trend
from ..services.notices import unreachable_agencies
from .dashboard_filters import DashboardFilters

COMPLETENESS_PAGE_SIZE = 100
COMPLETENESS_SORTS = {
    "name": (lambda row: row.agency.name, False),
    "completion": (lambda row: ({"nothing": 0, "partial": 1, "complete": 2}[row.completion], row.agency.name), False),
    "missing": (lambda row: (-row.missing, row.agency.name), False),
    "rate": (lambda row: (row.reporting_rate or 0, row.agency.name), False),
}


def _export_format(request) -> str:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in TABLE_FORMATS:
        raise Http404(_("不支援的匯出格式「%(fmt)s」。") % {"fmt": fmt})
    return fmt


def _page_number(request):
    """The ?page= asked for; a bad one is named in a warning and page 1 is shown."""
    raw = request.GET.get("page")
    if raw and not raw.isdigit():
        messages.warning(request, _("頁碼「%(value)s」無效，已改為顯示第 1 頁。") % {"value": raw})
        return 1
    return raw or 1


def _export_response(request, exporter):
    export = exporter.render(_export_format(request))
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


def _filters_or_empty(request, params=None):
    filters = DashboardFilters(request, params)
    filters.warn()
    return filters


def _no_data(request, filters):
    return render(request, "reporting/dashboard/no_data.html", {"filters": filters})


def branch_choices(user):
    """Agencies with bodies under them that the user may see: the branches a figure can be
    narrowed to (a body alone is on its own agency page)."""
    if not (user.sees_every_agency or user.oversees_subordinates):
        return Agency.objects.none()
    parents = Agency.objects.filter(parent__isnull=False).values("parent_id")
    return Agency.objects.visible_to(user).filter(pk__in=parents, collective="").order_by("name").only("id", "name")


def _board_context(request, filters, board, **extra):
    query = board.query
    return {
        "filters": filters, "selection": query, "board": board, "plan": query.plan,
        "statuses": HEADLINE_STATUSES, "rule_text": RULE_TEXT % {"tolerance": f"{board.tolerance:g}"},
        "strategies": Strategy.objects.filter(plan=query.plan).order_by("position"),
        "lead_agencies": lead_agencies(plan=query.plan),
        "branches": branch_choices(request.user),
        "carried": filters.carried(), "formats": FORMAT_LABELS, "quarters": [1, 2, 3, 4],
        "status_choices": Status.choices, "status_label": Status(query.status).label if query.status else "",
        **extra,
    }


def dashboard_home(request):
    """The national dashboard for AAC, NDC and administrators; agency users get their own."""
    if not request.user.sees_every_agency:
        if request.user.agency_id is None:
            raise PermissionDenied
        url = reverse("dashboard:agency", args=[request.user.agency_id])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    return _board_page(request)


def dashboard_strategy(request, pk):
    return _board_page(request, strategy=get_object_or_404(Strategy.objects.select_related("plan"), pk=pk))


def dashboard_measure(request, pk):
    return _board_page(request, measure=get_object_or_404(Measure.objects.select_related("strategy__plan"), pk=pk))


def _board_page(request, strategy=None, measure=None):
    filters = _filters_or_empty(request)
    if filters.query is None:
        return _no_data(request, filters)
    level = measure or strategy
    if level is not None:
        plan = measure.strategy.plan if measure else strategy.plan
        if plan != filters.plan:
            messages.warning(request, _("此項目屬於%(plan)s，不適用民國%(year)d年；請改選年度。") % {"plan": plan, "year": filters.query.year})
            return _no_data(request, filters)
        filters.query.strategy = strategy or measure.strategy
        filters.query.measure = measure
    board = dashboard(user=request.user, query=filters.query)
    if request.GET.get("export"):
        if request.GET.get("table") == "strategies":
            return _export_response(request, StrategySummaryExport(board, HEADLINE_STATUSES, identifier=f"dashboard-{board.query.year}-q{board.query.quarter}-strategies"))
        return _export_response(request, ValueTableExport(board, identifier=f"dashboard-{board.query.year}-q{board.query.quarter}"))
    return render(request, "reporting/dashboard/board.html", _board_context(request, filters, board, level_strategy=filters.query.strategy if level else None, level_measure=measure))


def dashboard_indicator(request, pk):
    indicator = get_object_or_404(Indicator.objects.select_related("measure__strategy__plan"), pk=pk)
    filters = _filters_or_empty(request)
    if filters.query is None:
        return _no_data(request, filters)
    if indicator.measure.strategy.plan != filters.plan:
        messages.warning(request, _("此指標屬於%(plan)s，不適用民國%(year)d年；請改選年度。") % {"plan": indicator.measure.strategy.plan, "year": filters.query.year})
        return _no_data(request, filters)
    query = filters.query
    query.strategy, query.measure, query.indicator = indicator.measure.strategy, indicator.measure, indicator
    board = dashboard(user=request.user, query=query)
    scope = scope_agencies(user=request.user, branch=query.branch)
    only_missing = request.GET.get("missing") == "1"
    exporting = bool(request.GET.get("export"))
    if exporting:
        _export_format(request)  # refuse a bad format before reading every agency
    page, rows = indicator_agencies(
        indicator=indicator, year=query.year, quarter=query.quarter, include_submitted=query.include_submitted,
        scope=scope, only_missing=only_missing, page_number=None if exporting else _page_number(request),
    )
    periods = list(ReportingPeriod.objects.filter(year=query.year, frequency=indicator.frequency).order_by("number"))
    if exporting:
        return _export_response(request, IndicatorAgenciesExport(indicator, periods, rows, identifier=f"indicator-{indicator.pk}-{query.year}-q{query.quarter}"))
    lineage = lineage_steps(indicator)
    trend = indicator_trend(indicator=indicator, include_submitted=query.include_submitted, agencies=scope, chain=[step.indicator for step in lineage])
    return render(request, "reporting/dashboard/indicator.html", _board_context(
        request, filters, board, indicator=indicator, page=page, rows=rows, periods=periods, only_missing=only_missing,
        trend=_trend_table(trend, periods), lineage=lineage, level_strategy=indicator.measure.strategy, level_measure=indicator.measure,
    ))


def _trend_table(trend, periods):
    """Rows per period number, one column per year: each period's own figure, then year to date."""
    years = sorted(trend)
    numbers = sorted({number for year in years for number in trend[year]["periods"]} | {p.number for p in periods})
    labels = {p.number: p.label.replace(f"{p.year}年", "") for p in periods}
    rows = [
        {"label": labels.get(number, number), "figures": [trend[year]["periods"].get(number) for year in years]}
        for number in numbers
    ]
    running = [
        {"label": _("至第%(q)d季累計") % {"q": quarter}, "figures": [trend[year]["year_to_date"].get(quarter) for year in years]}
        for quarter in range(1, 5)
    ]
    return {"years": years, "rows": rows, "running": running}


def dashboard_agency(request, pk):
    """One agency: its targets, obligations with every period's state, deadlines, and for an
    overseeing reviewer the bodies under it."""
    agency = get_object_or_404(Agency.objects.visible_to(request.user), pk=pk)
    filters = _filters_or_empty(request)
    if filters.query is None:
        return _no_data(request, filters)
    query = filters.query
    query.branch = agency
    board = dashboard(user=request.user, query=query)
    rows = agency_obligations(agency=agency, year=query.year, quarter=query.quarter, include_submitted=query.include_submitted)
    if request.GET.get("export"):
        return _export_response(request, AgencyObligationsExport(agency, rows, identifier=f"agency-{agency.code or agency.pk}-{query.year}"))
    own = completeness(year=query.year, quarter=query.quarter, agencies=[agency.pk])
    subordinates = Agency.objects.descendants(agency.pk).filter(pk__in=Agency.objects.visible_to(request.user).values("pk"))
    below = completeness(year=query.year, quarter=query.quarter, agencies=subordinates.values("pk"), by_agency=True)
    upcoming = ReportingPeriod.objects.filter(year=query.year, frequency__in={row.obligation.indicator.frequency for row in rows}).exclude(state=ReportingPeriod.State.LOCKED).order_by("due_on")
    # The path down to this agency, through the bodies above it that this user may open.
    above = Agency.objects.ancestors(agency).filter(pk__in=Agency.objects.visible_to(request.user).values("pk"))
    return render(request, "reporting/dashboard/agency.html", _board_context(
        request, filters, board, agency=agency, rows=rows, own=own, carried=filters.carried(branch=""),
        below=sorted(below.values(), key=lambda row: row.agency.name), upcoming=upcoming, above=list(above),
    ))


def completeness_page(request):
    """Per quarter: who submitted everything, part, nothing, or late."""
    filters = _filters_or_empty(request)
    if filters.query is None:
        return _no_data(request, filters)
    query = filters.query
    scope = scope_agencies(user=request.user, branch=query.branch)
    rows = list(completeness(year=query.year, quarter=query.quarter, agencies=scope, by_agency=True).values())
    everyone = rows
    completion = request.GET.get("completion", "")
    if completion and completion not in Completion.LABELS:
        messages.warning(request, _("完成情形「%(value)s」無效，已忽略此篩選。") % {"value": completion})
        completion = ""
    if completion:
        rows = [row for row in rows if row.completion == completion]
    late_only = request.GET.get("late") == "1"
    if late_only:
        rows = [row for row in rows if row.is_late]
    sort = request.GET.get("sort", "name")
    if sort not in COMPLETENESS_SORTS:
        messages.warning(request, _("排序方式「%(value)s」無效，已改為依機關名稱排序。") % {"value": sort})
        sort = "name"
    key, reverse_order = COMPLETENESS_SORTS[sort]
    rows.sort(key=key, reverse=reverse_order)
    if request.GET.get("export"):
        return _export_response(request, CompletenessExport(rows, identifier=f"completeness-{query.year}-q{query.quarter}"))
    totals = completeness(year=query.year, quarter=query.quarter, agencies=scope)
    # The cards count every agency in scope, whatever the table is filtered to.
    counts = {key: sum(1 for row in everyone if row.completion == key) for key in Completion.LABELS}
    return render(request, "reporting/dashboard/completeness.html", {
        "filters": filters, "selection": query, "plan": query.plan, "page": Paginator(rows, COMPLETENESS_PAGE_SIZE).get_page(_page_number(request)),
        "totals": totals, "completion": completion, "late_only": late_only, "sort": sort, "completions": Completion.LABELS,
        "counts": counts, "late_count": sum(1 for row in everyone if row.is_late), "carried": filters.carried(), "formats": FORMAT_LABELS,
        "quarters": [1, 2, 3, 4], "can_remind": (can_remind := _can_remind(request.user)),
        "branches": branch_choices(request.user),
        # Who no reminder reaches: AAC has to find them another way.
        "unreachable": unreachable_agencies(year=query.year) if can_remind else [],
    })


def _can_remind(user) -> bool:
    return user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR)


@require_POST
def completeness_remind(request):
    """One click: remind every late agency in the current filter of what it still owes."""
    if not _can_remind(request.user):
        raise PermissionDenied
    filters = _filters_or_empty(request, request.POST)  # the form posts the filters it showed
    if filters.query is None:
        return redirect("dashboard:completeness")
    query = filters.query
    scope = scope_agencies(user=request.user, branch=query.branch)
    rows = completeness(year=query.year, quarter=query.quarter, agencies=scope, by_agency=True).values()
    late = [row.agency.pk for row in rows if row.overdue > 0]
    periods = [p.pk for p in periods_ending_in(year=query.year, quarter=query.quarter)]
    if late:
        transaction.on_commit(lambda: tasks.send_reminders_to.delay(late, periods), robust=True)
        messages.success(request, _("已排定提醒 %(n)d 個逾期未送出的機關（同一機關同一期間每日至多提醒一次）。") % {"n": len(late)})
    else:
        messages.info(request, _("目前沒有逾期未送出的機關。"))
    return redirect(f"{reverse('dashboard:completeness')}?{filters.carried(late='1')}")

