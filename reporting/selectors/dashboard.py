"""The completion dashboard: every target value of a year with its figure and status.

Reads figures only through selectors.figures (the one aggregation path) and
judges them with reporting.assessment. A fixed number of queries whatever the
number of agencies, entries and years.
"""

import calendar
import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from agencies.models import Agency
from measures.models import AgencyAssignment, Indicator, KeyItem, Measure, PlanVersion, Strategy, TargetValue, TargetYear

from ..assessment import HEADLINE_STATUSES, Assessment, Status, assess
from ..models import AssessmentRule, Obligation
from .completeness import Completeness, completeness
from .figures import Figure, IndicatorKinds, indicator_figures


@dataclass
class DashboardQuery:
    """What the user asked for, already checked (views turn bad input into messages)."""

    plan: PlanVersion
    year: int
    quarter: int = 4
    strategy: Strategy | None = None
    measure: Measure | None = None
    indicator: Indicator | None = None
    lead_agency: Agency | None = None
    branch: Agency | None = None
    key_only: bool = False
    include_submitted: bool = False
    status: str = ""


@dataclass
class ValueRow:
    strategy: Strategy
    measure: Measure
    indicator: Indicator | None
    value: TargetValue | None
    target: Decimal | None  # the quantity that applies in the scope asked for
    figure: Figure | None
    assessment: Assessment
    is_key: bool = False
    leads: list = field(default_factory=list)  # printed names of the lead agencies

    @property
    def status(self) -> str:
        return self.assessment.status

    @property
    def status_label(self):
        return self.assessment.status.label


@dataclass
class StrategySummary:
    strategy: Strategy
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status) -> int:
        return self.counts.get(status, 0)


@dataclass
class Dashboard:
    query: DashboardQuery
    value_year: int | None  # the query's year once its target values are published, else None
    as_of: datetime.date
    tolerance: Decimal
    rows: list[ValueRow]  # after every filter but status
    strategies: list[StrategySummary]
    completeness: Completeness
    scoped: bool  # figures limited to a branch or to the user's agencies

    @property
    def shown_rows(self) -> list[ValueRow]:
        if not self.query.status:
            return self.rows
        return [row for row in self.rows if row.status == self.query.status]

    @property
    def headline(self) -> list[tuple[Status, int]]:
        counts = Counter(row.status for row in self.rows)
        return [(status, counts.get(status, 0)) for status in HEADLINE_STATUSES]

    @property
    def other_counts(self) -> list[tuple[Status, int]]:
        counts = Counter(row.status for row in self.rows)
        return [(status, counts[status]) for status in (Status.NOT_DUE, Status.REPORTED) if counts.get(status)]

    @property
    def without_values(self) -> bool:
        return self.value_year is None


def quarter_end(year: int, quarter: int) -> datetime.date:
    month = quarter * 3
    return datetime.date(year + 1911, month, calendar.monthrange(year + 1911, month)[1])


def value_year_for(*, plan: PlanVersion, year: int) -> int | None:
    """The year whose target values judge ``year``: its own once published, else none (a year
    never borrows another year's values)."""
    return year if TargetYear.objects.filter(plan=plan, year=year, state=TargetYear.State.PUBLISHED).exists() else None


def scope_agencies(*, user, branch: Agency | None):
    """Agency ids whose figures count (a queryset), or None for every agency. ``user`` None
    is the national report's view: every agency."""
    if branch is None and (user is None or user.sees_every_agency):
        return None
    if user is None:
        return Agency.objects.descendants(branch.pk, include_self=True).values("pk")
    visible = Agency.objects.visible_to(user)
    if branch is not None:
        visible = visible.filter(pk__in=Agency.objects.descendants(branch.pk, include_self=True).values("pk"))
    return visible.values("pk")


def dashboard(*, user, query: DashboardQuery, today: datetime.date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    as_of = min(today, quarter_end(query.year, query.quarter))
    tolerance = AssessmentRule.tolerance()
    scope = scope_agencies(user=user, branch=query.branch)
    value_year = value_year_for(plan=query.plan, year=query.year)
    measures = _measures(query, value_year)
    indicator_ids = [indicator.pk for measure in measures for indicator in measure.indicators.all()]
    kinds = IndicatorKinds.load(indicator_ids)
    figures = indicator_figures(
        year=query.year, quarter=query.quarter, include_submitted=query.include_submitted, agencies=scope,
        indicators=indicator_ids, kinds=kinds,
    )
    # Values printed for one agency (9(五)) are judged on that agency's own figure.
    own_values = [(value, indicator) for measure in measures for value in measure.values.all() if value.agency_id
                  for indicator in value.indicators.all()]
    scope_ids = set(scope.values_list("pk", flat=True)) if scope is not None else None
    own_figures = {}
    if own_values:
        own_figures = indicator_figures(
            year=query.year, quarter=query.quarter, include_submitted=query.include_submitted,
            agencies=[value.agency_id for value, _ in own_values if scope_ids is None or value.agency_id in scope_ids],
            indicators=[indicator.pk for _, indicator in own_values], by=("indicator", "agency"), kinds=kinds,
        )
    coverage = _coverage(query.year, scope) if scope is not None else {}
    leads = _leads(measures)
    key_measures = set(KeyItem.objects.filter(year=query.year, measure__in=measures).values_list("measure_id", flat=True))
    rows = []
    for measure in measures:
        for value, indicator in _value_indicator_pairs(measure):
            if scope_ids is not None and not _owed_inside(value, indicator, scope_ids, coverage):
                continue  # nothing in this scope reports it
            if value is not None and value.agency_id:
                figure = own_figures.get((indicator.pk, value.agency_id)) if indicator else None
            else:
                figure = figures.get(indicator.pk) if indicator else None
            target = _target_in_scope(value, indicator, scope_ids, coverage)
            aggregation = kinds.aggregation.get(indicator.pk, "") if indicator else ""
            rows.append(ValueRow(
                strategy=measure.strategy, measure=measure, indicator=indicator, value=value, target=target, figure=figure,
                assessment=assess(
                    value=value, target=target, figure=figure, indicator=indicator, aggregation=aggregation,
                    quarter=query.quarter, as_of=as_of, tolerance=tolerance,
                ),
                is_key=measure.pk in key_measures, leads=leads.get(measure.pk, []),
            ))
    summaries = {}
    for row in rows:
        summaries.setdefault(row.strategy.pk, StrategySummary(row.strategy)).counts[row.status] += 1
    return Dashboard(
        query=query, value_year=value_year, as_of=as_of, tolerance=tolerance, rows=rows,
        strategies=list(summaries.values()), completeness=completeness(year=query.year, quarter=query.quarter, agencies=scope, today=today),
        scoped=scope is not None,
    )


def _measures(query: DashboardQuery, value_year) -> list[Measure]:
    measures = Measure.objects.filter(strategy__plan=query.plan)
    if query.strategy:
        measures = measures.filter(strategy=query.strategy)
    if query.measure:
        measures = measures.filter(pk=query.measure.pk)
    if query.indicator:
        measures = measures.filter(pk=query.indicator.measure_id)
    if query.lead_agency:
        measures = measures.filter(assignments__role=AgencyAssignment.Role.LEAD, assignments__agency=query.lead_agency).distinct()
    if query.key_only:
        measures = measures.filter(key_items__year=query.year)
    indicators = Indicator.objects.order_by("position")
    if query.indicator:
        indicators = indicators.filter(pk=query.indicator.pk)
    values = TargetValue.objects.filter(year=value_year or 0).select_related("agency").prefetch_related("indicators", "shares").order_by("position")
    if query.indicator:
        values = values.filter(indicators=query.indicator)
    return list(
        measures.select_related("strategy__plan")
        .prefetch_related(Prefetch("indicators", queryset=indicators), Prefetch("values", queryset=values))
        .order_by("strategy__position", "number")
    )


def _value_indicator_pairs(measure):
    """Each value with the indicator that measures it; indicators without a value stand alone."""
    measured = set()
    for value in measure.values.all():
        linked = list(value.indicators.all())
        indicator = linked[0] if linked else None
        if indicator:
            measured.add(indicator.pk)
        yield value, indicator
    for indicator in measure.indicators.all():
        if indicator.pk not in measured:
            yield None, indicator


def _target_in_scope(value, indicator, scope_ids, coverage) -> Decimal | None:
    """The national quantity; in a narrower scope, the agencies' shares inside it, or the
    whole quantity when every agency that owes the indicator is inside it."""
    if value is None or value.quantity is None:
        return None
    if scope_ids is None or value.agency_id:
        return value.quantity
    shares = list(value.shares.all())
    if shares:
        inside = [share.quantity for share in shares if share.agency_id in scope_ids]
        return sum(inside) if inside else None
    owed, owed_inside = coverage.get(indicator.pk, (0, 0)) if indicator else (0, 0)
    return value.quantity if owed and owed == owed_inside else None


def _owed_inside(value, indicator, scope_ids, coverage) -> bool:
    if value is not None and value.agency_id:
        return value.agency_id in scope_ids
    return indicator is not None and coverage.get(indicator.pk, (0, 0))[1] > 0


def _coverage(year, scope) -> dict[int, tuple[int, int]]:
    """{indicator id: (agencies owing it, of which inside the scope)}."""
    rows = Obligation.objects.filter(year=year).values("indicator_id").annotate(
        owed=Count("id"), inside=Count("id", filter=Q(agency_id__in=scope))
    ).order_by()
    return {row["indicator_id"]: (row["owed"], row["inside"]) for row in rows}


def _leads(measures) -> dict[int, list[str]]:
    leads = defaultdict(list)
    assignments = AgencyAssignment.objects.filter(measure__in=measures, role=AgencyAssignment.Role.LEAD).order_by("measure_id", "position")
    for assignment in assignments.values("measure_id", "printed_name"):
        if assignment["printed_name"] not in leads[assignment["measure_id"]]:
            leads[assignment["measure_id"]].append(assignment["printed_name"])
    return leads


def lead_agencies(*, plan: PlanVersion):
    """Agencies that lead at least one measure of the plan, for the filter list."""
    return Agency.objects.filter(assignments__measure__strategy__plan=plan, assignments__role=AgencyAssignment.Role.LEAD).distinct().order_by("name")
