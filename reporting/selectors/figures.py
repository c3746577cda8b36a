"""The one aggregation path: each indicator's figure for a year, up to a quarter.

The dashboards, their exports, the drill-down pages, the annual report and the
API all read their numbers here, so they can never disagree. How a figure is
made (DOMAIN.md, "Frequencies"):

- counts and money (aggregation "sum"): the total of the periods' figures;
- ratios: Σnumerators ÷ Σdenominators × 100 — never an average of percentages;
- "latest status" indicators: each agency's latest figure, then across agencies
  the total (levels such as 維持 150 家), the least advanced milestone (the
  national milestone is done when every reporting agency is done) or the
  lowest grade;
- report-only (text) indicators: whether anything was reported.

Only approved entries count, and on request also the submitted ones still in
review (submitted, forwarded). Every function runs a fixed number of queries,
whatever the number of agencies, entries or years.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from measures.models import Indicator, TargetValueIndicator

from ..models import Entry, ReportingPeriod

APPROVED_STATES = (Entry.State.APPROVED,)
IN_REVIEW_STATES = (Entry.State.SUBMITTED, Entry.State.FORWARDED)
MILESTONE_ORDER = {Entry.Milestone.NOT_STARTED: 0, Entry.Milestone.IN_PROGRESS: 1, Entry.Milestone.DONE: 2}

# Grouping keys a caller may ask for, mapped to the entry fields behind them.
GROUPINGS = {
    "indicator": "obligation__indicator_id",
    "agency": "obligation__agency_id",
    "period": "period_id",
    "year": "obligation__year",
}


def counted_states(include_submitted: bool) -> tuple[str, ...]:
    return APPROVED_STATES + (IN_REVIEW_STATES if include_submitted else ())


@dataclass
class Figure:
    """An indicator's figure over some entries (a year to date, a period, an agency …)."""

    kind: str  # quantity, ratio, milestone, grade or text (Indicator.entry_kind)
    quantity: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    milestone: str = ""
    reached_on: date | None = None
    grade: str = ""
    entries: int = 0  # counted entries behind the figure
    agencies: int = 0  # agencies with a counted entry

    @property
    def reported(self) -> bool:
        return self.entries > 0

    @property
    def value(self) -> Decimal | None:
        """The number compared with a target: the quantity, or the ratio as a percentage."""
        if self.kind == "ratio":
            if self.numerator is None or not self.denominator:
                return None
            return self.numerator * 100 / self.denominator
        if self.kind == "quantity":
            return self.quantity
        return None

    @property
    def milestone_label(self) -> str:
        return str(Entry.Milestone(self.milestone).label) if self.milestone else ""


@dataclass
class IndicatorKinds:
    """What each indicator's entries hold, read once per call (two queries)."""

    aggregation: dict[int, str] = field(default_factory=dict)
    entry_kind: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, indicator_ids=None) -> "IndicatorKinds":
        indicators = Indicator.objects.all()
        links = TargetValueIndicator.objects.all()
        if indicator_ids is not None:
            indicators = indicators.filter(pk__in=indicator_ids)
            links = links.filter(indicator_id__in=indicator_ids)
        value_kinds = defaultdict(list)
        for indicator_id, kind in links.values_list("indicator_id", "value__kind"):
            value_kinds[indicator_id].append(kind)
        kinds = cls()
        for indicator in indicators.only("id", "aggregation"):
            kinds.aggregation[indicator.pk] = indicator.aggregation
            kinds.entry_kind[indicator.pk] = indicator.entry_kind(value_kinds=value_kinds.get(indicator.pk, []))
        return kinds


def periods_up_to(*, year: int, quarter: int) -> list[ReportingPeriod]:
    """The year's periods that end by the end of ``quarter`` (1–4): what year-to-date covers."""
    return [p for p in ReportingPeriod.objects.filter(year=year) if p.months[1] <= quarter * 3]


def counted_entries(*, states, periods=None, years=None, agencies=None, indicators=None):
    """Entries that count towards figures, narrowed to periods, years, an agency scope
    (a queryset or ids; None = every agency) and indicators (ids; None = all)."""
    entries = Entry.objects.filter(state__in=states)
    if periods is not None:
        entries = entries.filter(period_id__in=[p.pk for p in periods])
    if years is not None:
        entries = entries.filter(obligation__year__in=years)
    if agencies is not None:
        entries = entries.filter(obligation__agency_id__in=agencies)
    if indicators is not None:
        entries = entries.filter(obligation__indicator_id__in=indicators)
    return entries


def indicator_figures(
    *, year: int, quarter: int = 4, include_submitted: bool = False, agencies=None, indicators=None,
    by: tuple[str, ...] = ("indicator",), kinds: IndicatorKinds | None = None,
) -> dict:
    """Year-to-date figures up to the end of ``quarter``.

    Keys are indicator ids for ``by=("indicator",)``, else tuples in the order of
    ``by`` (e.g. ``("indicator", "agency")`` → ``(indicator_id, agency_id)``).
    """
    periods = periods_up_to(year=year, quarter=quarter)
    entries = counted_entries(
        states=counted_states(include_submitted), periods=periods, years=[year], agencies=agencies, indicators=indicators
    )
    return figures_of(entries, by=by, kinds=kinds or IndicatorKinds.load(indicators))


def indicator_trend(*, indicator: Indicator, include_submitted: bool = False, agencies=None) -> dict[int, dict]:
    """{year: {"periods": {period number: Figure}, "year_to_date": {quarter: Figure}}} for every
    year with entries: the figure of each period alone, and the running year-to-date figure."""
    kinds = IndicatorKinds.load([indicator.pk])
    entries = counted_entries(states=counted_states(include_submitted), agencies=agencies, indicators=[indicator.pk])
    rows = _rows(entries, ("year", "period"), kinds, indicator.pk)
    years = {row["key"][0] for row in rows}
    periods = {p.pk: p for p in ReportingPeriod.objects.filter(year__in=years, frequency=indicator.frequency)}
    trend: dict[int, dict] = {year: {"periods": {}, "year_to_date": {}} for year in sorted(years)}
    for (year, period_id), group in _grouped(rows).items():
        trend[year]["periods"][periods[period_id].number] = _combine_year_to_date(group, kinds, indicator.pk)
    for year in trend:
        trend[year]["periods"] = dict(sorted(trend[year]["periods"].items()))
        for quarter in range(1, 5):
            # Running figures regroup the same rows; no second formula.
            ids = {pk for pk, p in periods.items() if p.year == year and p.months[1] <= quarter * 3}
            subset = [row for row in rows if row["key"][0] == year and row["key"][1] in ids]
            if subset:
                trend[year]["year_to_date"][quarter] = _combine_year_to_date(subset, kinds, indicator.pk)
    return trend


# ------------------------------------------------------------------ internals


def figures_of(entries, *, by, kinds: IndicatorKinds, indicator_id: int | None = None) -> dict:
    """Group ``entries`` by ``by`` and make one Figure per group.

    Two queries: one aggregate over every entry, one list of the entries of
    "latest status" indicators (each agency's latest one wins). ``indicator_id``
    is given when ``by`` leaves the indicator out (one indicator's trend).
    """
    return {key: _combine_year_to_date(group, kinds, indicator_id) for key, group in _grouped(_rows(entries, by, kinds, indicator_id)).items()}


def _grouped(rows) -> dict:
    groups: dict = defaultdict(list)
    for row in rows:
        groups[row["key"]].append(row)
    return groups


def _rows(entries, by, kinds, indicator_id):
    """Per group and agency: sums for summed and ratio indicators, the latest entry for the others."""
    fields = [GROUPINGS[name] for name in by]
    per_agency = [*fields] if "agency" in by else [*fields, GROUPINGS["agency"]]
    if "indicator" not in by:
        per_agency.append(GROUPINGS["indicator"])
    has_value = Q(numerator__isnull=False, denominator__isnull=False)
    sums = entries.values(*per_agency).annotate(
        total_quantity=Sum("quantity"),
        total_numerator=Sum("numerator", filter=has_value),
        total_denominator=Sum("denominator", filter=has_value),
        entry_count=Count("id"),
    ).order_by()
    latest_entries = (
        entries.filter(obligation__indicator__aggregation=Indicator.Aggregation.LATEST)
        .values_list(*per_agency, "period__number", "quantity", "milestone", "reached_on", "grade")
        .order_by()
    )
    key_size = len(fields)
    rows = {}
    for row in sums:
        values = [row[name] for name in per_agency]
        key = _key(values[:key_size])
        agency_id = row[GROUPINGS["agency"]]
        indicator = row[GROUPINGS["indicator"]] if GROUPINGS["indicator"] in row else indicator_id
        rows[(key, agency_id)] = {
            "key": key, "agency": agency_id, "indicator": indicator, "entries": row["entry_count"],
            "quantity": row["total_quantity"], "numerator": row["total_numerator"], "denominator": row["total_denominator"], "latest": None,
        }
    for *values, number, quantity, milestone, reached_on, grade in latest_entries:
        key = _key(values[:key_size])
        agency_id = values[per_agency.index(GROUPINGS["agency"])]
        row = rows[(key, agency_id)]
        if quantity is None and not milestone and not grade:
            continue
        if row["latest"] is None or number > row["latest"]["number"]:
            row["latest"] = {"number": number, "quantity": quantity, "milestone": milestone, "reached_on": reached_on, "grade": grade}
    return list(rows.values())


def _key(values):
    return values[0] if len(values) == 1 else tuple(values)


def _combine_year_to_date(rows, kinds: IndicatorKinds, indicator_id) -> Figure:
    """Across agencies: totals for sums and ratios; for "latest status" the total of
    levels, the least advanced milestone, the lowest grade."""
    indicator = rows[0]["indicator"] if rows else indicator_id
    kind = kinds.entry_kind.get(indicator, "quantity")
    figure = Figure(kind=kind)
    figure.entries = sum(row["entries"] for row in rows)
    figure.agencies = sum(1 for row in rows if row["entries"])
    latest = kinds.aggregation.get(indicator) == Indicator.Aggregation.LATEST
    if kind == "ratio":
        pairs = [(row["numerator"], row["denominator"]) for row in rows if row["denominator"]]
        if pairs:
            figure.numerator = sum(n for n, _ in pairs)
            figure.denominator = sum(d for _, d in pairs)
    elif kind == "quantity":
        if latest:
            levels = [row["latest"]["quantity"] for row in rows if row["latest"] and row["latest"]["quantity"] is not None]
        else:
            levels = [row["quantity"] for row in rows if row["quantity"] is not None]
        figure.quantity = sum(levels) if levels else None
    elif kind == "milestone":
        statuses = [row["latest"] for row in rows if row["latest"] and row["latest"]["milestone"]]
        if statuses:
            least = min(statuses, key=lambda s: MILESTONE_ORDER.get(s["milestone"], 0))
            figure.milestone = least["milestone"]
            if figure.milestone == Entry.Milestone.DONE:
                dates = [s["reached_on"] for s in statuses if s["reached_on"]]
                figure.reached_on = max(dates) if dates else None
    elif kind == "grade":
        grades = [row["latest"]["grade"] for row in rows if row["latest"] and row["latest"]["grade"]]
        if grades:
            figure.grade = max(grades, key=grade_rank)
    return figure


def grade_rank(grade: str) -> tuple:
    """A before B before C …; "A+" before "A"; lower rank is better."""
    text = grade.strip().upper()
    letter = text[:1]
    modifier = {"+": 0, "": 1, "-": 2}.get(text[1:2], 1)
    return (letter, modifier)
