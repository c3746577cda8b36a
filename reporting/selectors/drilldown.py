"""Behind a dashboard number: each agency's entries for one indicator, and everything one
agency owes. Figures come from selectors.figures; a fixed number of queries per page."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef

from ..models import Entry, Obligation, ReportingPeriod
from .figures import Figure, IndicatorKinds, counted_entries, counted_states, indicator_figures, periods_up_to

PAGE_SIZE = 50


@dataclass
class AgencyRow:
    obligation: Obligation
    cells: list = field(default_factory=list)  # (period, entry or None) for every period of the year
    figure: Figure | None = None  # year to date, through the same aggregation path

    @property
    def agency(self):
        return self.obligation.agency

    @property
    def reported(self) -> bool:
        return self.figure is not None and self.figure.reported


def indicator_agencies(
    *, indicator, year: int, quarter: int, include_submitted: bool, scope, only_missing: bool = False, page_number=1,
):
    """A page of the agencies that owe ``indicator`` in ``year`` (within ``scope``: agency
    ids or None), each with its entries for every period and its year-to-date figure.

    ``only_missing`` keeps the agencies with nothing counted up to the quarter;
    ``page_number`` None gives every agency and no page.
    """
    obligations = Obligation.objects.filter(year=year, indicator=indicator).select_related("agency", "indicator")
    if scope is not None:
        obligations = obligations.filter(agency_id__in=scope)
    periods_so_far = periods_up_to(year=year, quarter=quarter)
    if only_missing:
        counted = counted_entries(states=counted_states(include_submitted), periods=periods_so_far).filter(obligation=OuterRef("pk"))
        obligations = obligations.filter(~Exists(counted))
    obligations = obligations.order_by("agency__name", "pk")
    if page_number is None:  # every agency (exports)
        page, chosen = None, list(obligations)
    else:
        page = Paginator(obligations, PAGE_SIZE).get_page(page_number)
        chosen = list(page.object_list)
    rows = _rows_with_entries(chosen, year=year, frequency=indicator.frequency)
    figures = indicator_figures(
        year=year, quarter=quarter, include_submitted=include_submitted, agencies=[row.obligation.agency_id for row in rows],
        indicators=[indicator.pk], by=("indicator", "agency"), kinds=IndicatorKinds.load([indicator.pk]),
    )
    for row in rows:
        row.figure = figures.get((indicator.pk, row.obligation.agency_id))
    return page, rows


def agency_obligations(*, agency, year: int, quarter: int, include_submitted: bool):
    """Everything ``agency`` owes in ``year``, with entries per period and year-to-date figures."""
    obligations = list(
        Obligation.objects.filter(year=year, agency=agency)
        .select_related("agency", "indicator__measure__strategy")
        .order_by("indicator__measure__strategy__position", "indicator__measure__number", "indicator__position")
    )
    rows = _rows_with_entries(obligations, year=year)
    figures = indicator_figures(
        year=year, quarter=quarter, include_submitted=include_submitted, agencies=[agency.pk],
        indicators=[o.indicator_id for o in obligations], by=("indicator", "agency"),
    )
    for row in rows:
        row.figure = figures.get((row.obligation.indicator_id, agency.pk))
    return rows


def _rows_with_entries(obligations, *, year, frequency=None) -> list[AgencyRow]:
    periods = ReportingPeriod.objects.filter(year=year).order_by("frequency", "number")
    if frequency:
        periods = periods.filter(frequency=frequency)
    by_frequency = {}
    for period in periods:
        by_frequency.setdefault(period.frequency, []).append(period)
    entries = {
        (entry.obligation_id, entry.period_id): entry
        for entry in Entry.objects.filter(obligation__in=[o.pk for o in obligations]).only(
            "id", "obligation_id", "period_id", "state", "quantity", "numerator", "denominator", "milestone", "grade", "submitted_at"
        )
    }
    return [
        AgencyRow(
            obligation=obligation,
            cells=[(period, entries.get((obligation.pk, period.pk))) for period in by_frequency.get(obligation.indicator.frequency, [])],
        )
        for obligation in obligations
    ]
