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

from django.db.models import BigIntegerField, Case, Count, F, IntegerField, Max, Q, Sum, When

from measures.lineage import indicator_ancestry
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


def indicator_trend(*, indicator: Indicator, include_submitted: bool = False, agencies=None, chain: list[Indicator] | None = None) -> dict[int, dict]:
    """{year: {"periods": {period number: Figure}, "year_to_date": {quarter: Figure}}} for every
    year with entries: the figure of each period alone, and the running year-to-date figure
    (whose ``agencies`` is a lower bound: agencies are counted per period).

    Years before the indicator's plan version come from the indicators it continues
    (measures/lineage.py), each only in the years of its own version, so one line of work
    keeps its trend across a revision. ``chain``: that ancestry, when the caller has it."""
    chain = chain or indicator_ancestry(indicator)
    kinds = IndicatorKinds.load([step.pk for step in chain])
    in_own_years = Q()
    for step in chain:
        plan = step.measure.strategy.plan
        years = Q(obligation__year__gte=plan.first_year) & (Q(obligation__year__lte=plan.last_year) if plan.last_year else Q())
        in_own_years |= Q(obligation__indicator_id=step.pk) & years
    entries = counted_entries(states=counted_states(include_submitted), agencies=agencies).filter(in_own_years)
    groups = _groups(entries, ("year", "period"), kinds)
    years = {year for year, _period in groups}
    periods = ReportingPeriod.objects.filter(year__in=years, frequency__in={step.frequency for step in chain}).in_bulk()
    trend: dict[int, dict] = {year: {"periods": {}, "year_to_date": {}} for year in sorted(years)}
    for (year, period_id), group in sorted(groups.items(), key=lambda item: (item[0][0], periods[item[0][1]].number)):
        trend[year]["periods"][periods[period_id].number] = _figure(group, kinds)
    for year in trend:
        for quarter in range(1, 5):
            # Running figures merge the same groups; no second formula.
            merged = _merge([group for (y, period_id), group in groups.items() if y == year and periods[period_id].months[1] <= quarter * 3])
            if merged is not None:
                trend[year]["year_to_date"][quarter] = _figure(merged, kinds)
    return trend


# ------------------------------------------------------------------ internals


def figures_of(entries, *, by, kinds: IndicatorKinds) -> dict:
    """Group ``entries`` by ``by`` and make one Figure per group (one query)."""
    return {key: _figure(group, kinds) for key, group in _groups(entries, by, kinds).items()}


def _groups(entries, by, kinds: IndicatorKinds) -> dict:
    """Per group the totals, and for "latest status" indicators each agency's latest entry,
    from one aggregate query (one scan of the entries): rows of those indicators are grouped
    further by agency and period, and such a row is a single entry (one per obligation and
    period), so its sums and maxima are that entry's own figures."""
    fields = [GROUPINGS[name] for name in by]
    indicator_field, agency_field = GROUPINGS["indicator"], GROUPINGS["agency"]
    group_fields = fields if indicator_field in fields else [*fields, indicator_field]
    latest_indicators = [pk for pk, aggregation in kinds.aggregation.items() if aggregation == Indicator.Aggregation.LATEST]
    is_latest = Q(obligation__indicator_id__in=latest_indicators)
    has_value = Q(numerator__isnull=False, denominator__isnull=False)
    rows = entries.annotate(
        latest_agency=Case(When(is_latest, then=F(agency_field)), output_field=BigIntegerField()),
        latest_number=Case(When(is_latest, then=F("period__number")), output_field=IntegerField()),
    ).values(*group_fields, "latest_agency", "latest_number").annotate(
        total_quantity=Sum("quantity"),
        total_numerator=Sum("numerator", filter=has_value),
        total_denominator=Sum("denominator", filter=has_value),
        entry_count=Count("id"),
        agency_count=Count(agency_field, distinct=True),
        last_milestone=Max("milestone"),
        last_reached_on=Max("reached_on"),
        last_grade=Max("grade"),
    ).order_by()
    groups = {}
    for row in rows:
        key = _key([row[name] for name in fields])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "indicator": row[indicator_field], "entries": 0, "agencies": 0,
                "quantity": None, "numerator": None, "denominator": None, "latest": {},
            }
        group["entries"] += row["entry_count"]
        for name in ("quantity", "numerator", "denominator"):
            group[name] = _add(group[name], row[f"total_{name}"])
        agency_id = row["latest_agency"]
        if agency_id is None:  # any other indicator: this row is the whole group
            group["agencies"] = row["agency_count"]
            continue
        group.setdefault("agency_ids", set()).add(agency_id)
        group["agencies"] = len(group["agency_ids"])
        quantity, milestone, grade = row["total_quantity"], row["last_milestone"], row["last_grade"]
        if quantity is None and not milestone and not grade:
            continue  # an entry without a status says nothing about it
        number, latest = row["latest_number"], group["latest"]
        if agency_id not in latest or number > latest[agency_id]["number"]:
            latest[agency_id] = {"number": number, "quantity": quantity, "milestone": milestone, "reached_on": row["last_reached_on"], "grade": grade}
    return groups


def _key(values):
    return values[0] if len(values) == 1 else tuple(values)


def _add(a, b):
    return b if a is None else a if b is None else a + b


def _merge(groups: list[dict]) -> dict | None:
    """Several groups of one indicator as one (a year to date from its periods)."""
    if not groups:
        return None
    merged = {**groups[0], "latest": dict(groups[0]["latest"])}
    merged.pop("agency_ids", None)
    for group in groups[1:]:
        for name in ("quantity", "numerator", "denominator"):
            merged[name] = _add(merged[name], group[name])
        merged["entries"] += group["entries"]
        merged["agencies"] = max(merged["agencies"], group["agencies"])
        for agency_id, latest in group["latest"].items():
            if agency_id not in merged["latest"] or latest["number"] > merged["latest"][agency_id]["number"]:
                merged["latest"][agency_id] = latest
    return merged


def _figure(group, kinds: IndicatorKinds) -> Figure:
    """Totals for sums and ratios; for "latest status" across agencies the total of
    levels, the least advanced milestone, the lowest grade."""
    indicator = group["indicator"]
    kind = kinds.entry_kind.get(indicator, "quantity")
    figure = Figure(kind=kind, entries=group["entries"], agencies=group["agencies"])
    latest = list(group["latest"].values())
    if kind == "ratio":
        if group["denominator"]:
            figure.numerator, figure.denominator = group["numerator"], group["denominator"]
    elif kind == "quantity":
        if kinds.aggregation.get(indicator) == Indicator.Aggregation.LATEST:
            levels = [entry["quantity"] for entry in latest if entry["quantity"] is not None]
            figure.quantity = sum(levels) if levels else None
        else:
            figure.quantity = group["quantity"]
    elif kind == "milestone":
        statuses = [entry for entry in latest if entry["milestone"]]
        if statuses:
            least = min(statuses, key=lambda entry: MILESTONE_ORDER.get(entry["milestone"], 0))
            figure.milestone = least["milestone"]
            if figure.milestone == Entry.Milestone.DONE:
                dates = [entry["reached_on"] for entry in statuses if entry["reached_on"]]
                figure.reached_on = max(dates) if dates else None
    elif kind == "grade":
        grades = [entry["grade"] for entry in latest if entry["grade"]]
        if grades:
            figure.grade = max(grades, key=grade_rank)
    return figure


def entries_number(*, kind: str, aggregation: str, entries) -> Decimal | None:
    """One agency's year-to-date number from entries in hand (period order), for pages that
    also count an entry not saved yet: the total, the latest level, or the ratio of totals × 100."""
    if kind == "quantity":
        values = [e.quantity for e in entries if e.quantity is not None]
        if not values:
            return None
        return values[-1] if aggregation == Indicator.Aggregation.LATEST else sum(values)
    if kind == "ratio":
        pairs = [(e.numerator, e.denominator) for e in entries if e.numerator is not None and e.denominator]
        return sum(n for n, _ in pairs) * 100 / sum(d for _, d in pairs) if pairs else None
    return None


def grade_rank(grade: str) -> tuple:
    """A before B before C …; "A+" before "A"; lower rank is better."""
    text = grade.strip().upper()
    letter = text[:1]
    modifier = {"+": 0, "": 1, "-": 2}.get(text[1:2], 1)
    return (letter, modifier)
