"""What the annual consolidated report (年度執行成果) and each agency's annual report say.

Figures and statuses come from the dashboard selector, which reads them through
selectors.figures (the one aggregation path): the report, the dashboard and their
exports can never disagree. The exporters (reporting/exporters/annual_*.py) only
lay these objects out as PDF, XLSX and ODS.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, fields

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from measures.lineage import predecessors_for_year
from measures.models import Measure, PlanVersion, Strategy, TargetValue

from ..assessment import HEADLINE_STATUSES, Status
from ..models import Entry, Obligation
from .completeness import Completeness, completeness_year_to_date
from .dashboard import DashboardQuery, StrategySummary, ValueRow, dashboard, quarter_end, value_year_for
from .drilldown import AgencyRow, agency_obligations
from .figures import Figure, IndicatorKinds, counted_states, indicator_figures, periods_up_to

ISSUER = "法務部"  # MOJ issues the report; AAC compiles it
COMPILER = "法務部廉政署"


@dataclass
class ReportMeta:
    """The cover: which plan, year and period, who issues it, how fresh the data is."""

    plan: PlanVersion
    year: int  # ROC
    quarter: int  # year to date up to the end of this quarter; 4 = the whole year
    data_as_of: datetime.datetime
    draft: bool = False
    draft_reasons: list[str] = field(default_factory=list)
    cutoff: "Cutoff | None" = None  # a final version with entries not yet approved left out
    issuer: str = ISSUER
    compiler: str = COMPILER

    @property
    def gregorian_year(self) -> int:
        return self.year + 1911

    @property
    def full_year(self) -> bool:
        return self.quarter == 4

    @property
    def period_label(self) -> str:
        if self.full_year:
            return _("民國%(year)d年（%(gregorian)d年）全年度") % {"year": self.year, "gregorian": self.gregorian_year}
        return _("民國%(year)d年（%(gregorian)d年）截至第%(quarter)d季") % {
            "year": self.year, "gregorian": self.gregorian_year, "quarter": self.quarter,
        }

    @property
    def title(self) -> str:
        if self.full_year:
            return _("國家廉政建設行動方案 民國%(year)d年度執行成果") % {"year": self.year}
        return _("國家廉政建設行動方案 民國%(year)d年截至第%(quarter)d季執行成果") % {"year": self.year, "quarter": self.quarter}

    @property
    def identifier(self) -> str:
        """The stem of the report's export file names: annual-report-112, annual-report-112-q2."""
        return f"annual-report-{self.year}" if self.full_year else f"annual-report-{self.year}-q{self.quarter}"

    @property
    def period_end(self) -> datetime.date:
        return quarter_end(self.year, self.quarter)


@dataclass
class Statement:
    """One agency's words on a target value: its narrative, or why a target was missed."""

    agency: str
    text: str


@dataclass
class ReportRow(ValueRow):
    """A dashboard row (target, figure, status, leads …) with the words the report adds."""

    narratives: list[Statement] = field(default_factory=list)
    shortfalls: list[Statement] = field(default_factory=list)  # 未達成原因及策進作為
    previous_figure: Figure | None = None  # the year before, same quarter (across a revision, through lineage)

    @classmethod
    def of(cls, row: ValueRow) -> "ReportRow":
        return cls(**{name.name: getattr(row, name.name) for name in fields(ValueRow)})

    @property
    def missed(self) -> bool:
        return self.status in (Status.BEHIND, Status.NOT_REPORTED)


@dataclass
class MeasureSection:
    measure: Measure
    rows: list[ReportRow]
    leads: list[str]
    is_key: bool


@dataclass
class StrategySection:
    strategy: Strategy
    measures: list[MeasureSection]
    summary: StrategySummary


@dataclass
class Cutoff:
    """AAC's decision to issue a final version before every entry is approved: who, when, why."""

    reason: str
    decided_by: str
    decided_at: datetime.datetime


@dataclass
class LeftOut:
    """An entry not approved at the cut-off: not counted, listed in the annex with its state."""

    agency: str
    reference: str
    indicator: str
    period: str
    state: str


@dataclass
class NationalReport:
    meta: ReportMeta
    strategies: list[StrategySection]
    headline: list[tuple[Status, int]]  # target values per headline status
    other_counts: list[tuple[Status, int]]
    completeness: list[Completeness]  # per agency, year to date, by agency name
    completeness_total: Completeness
    tolerance: object = None
    left_out: list[LeftOut] = field(default_factory=list)  # with a cut-off only

    @property
    def statuses(self):
        return HEADLINE_STATUSES

    @property
    def rows(self) -> list[ReportRow]:
        return [row for strategy in self.strategies for measure in strategy.measures for row in measure.rows]

    @property
    def key_measures(self) -> list[MeasureSection]:
        return [measure for strategy in self.strategies for measure in strategy.measures if measure.is_key]

    @property
    def missed(self) -> list[ReportRow]:
        return [row for row in self.rows if row.missed]


@dataclass
class AgencyReportRow:
    """One obligation of the agency: its entries per period and its year-to-date figure."""

    line: AgencyRow  # obligation, cells (period, entry), figure
    values: list[TargetValue]  # the plan's target values the indicator measures
    narratives: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)

    @property
    def obligation(self) -> Obligation:
        return self.line.obligation

    @property
    def indicator(self):
        return self.line.obligation.indicator

    @property
    def measure(self):
        return self.line.obligation.indicator.measure

    @property
    def figure(self):
        return self.line.figure


@dataclass
class AgencyReport:
    meta: ReportMeta
    agency: Agency
    rows: list[AgencyReportRow]
    completeness: Completeness


# ------------------------------------------------------------------ readiness


def report_readiness(*, year: int, quarter: int, agency: Agency | None = None) -> list[str]:
    """Why a report for the year (up to the quarter) can only be a draft; empty when it
    can be final. Each reason is a sentence for the user."""
    from ..services import ObligationError, plan_for_year

    from .target_setting import year_without_values_message

    reasons = []
    try:
        plan_for_year(year)
    except ObligationError as error:
        return [year_without_values_message(year=year) or str(error)]
    periods = periods_up_to(year=year, quarter=quarter)
    pending = Entry.objects.filter(period__in=periods, obligation__year=year).exclude(state=Entry.State.APPROVED)
    if agency is not None:
        pending = pending.filter(obligation__agency=agency)
    count = pending.count()
    if count:
        reasons.append(_("尚有 %(count)d 筆填報資料未經廉政署核定（草稿、待審或退回），未計入成果。") % {"count": count})
    return reasons


# ------------------------------------------------------------------ national


def entries_left_out(*, year: int, quarter: int) -> list[LeftOut]:
    """Entries of the year up to the quarter that are not approved (one query)."""
    periods = periods_up_to(year=year, quarter=quarter)
    entries = (
        Entry.objects.filter(period__in=periods, obligation__year=year).exclude(state=Entry.State.APPROVED)
        .select_related("obligation__agency", "obligation__indicator__measure__strategy", "period")
        .order_by("obligation__agency__name", "obligation__indicator__measure__strategy__position", "obligation__indicator__measure__number", "period__number")
    )
    return [
        LeftOut(
            agency=entry.obligation.agency.name, reference=entry.obligation.indicator.measure.reference,
            indicator=entry.obligation.indicator.text, period=entry.period.label, state=entry.get_state_display(),
        )
        for entry in entries
    ]


def national_report(
    *, year: int, quarter: int = 4, draft_reasons=None, today: datetime.date | None = None, cutoff: Cutoff | None = None,
) -> NationalReport:
    """The consolidated report for every agency. Runs a fixed number of queries."""
    from ..services import plan_for_year

    today = today or timezone.localdate()
    plan = plan_for_year(year)
    board = dashboard(user=None, query=DashboardQuery(plan=plan, year=year, quarter=quarter), today=today)
    rows = [ReportRow.of(row) for row in board.rows]
    _attach_statements(rows, year=year, quarter=quarter)
    _attach_previous_figures(rows, year=year, quarter=quarter)
    sections, by_strategy = [], defaultdict(list)
    for row in rows:
        by_strategy[row.strategy.pk].append(row)
    summaries = {summary.strategy.pk: summary for summary in board.strategies}
    for strategy_id, strategy_rows in by_strategy.items():
        measures, by_measure = [], defaultdict(list)
        for row in strategy_rows:
            by_measure[row.measure.pk].append(row)
        for measure_rows in by_measure.values():
            first = measure_rows[0]
            measures.append(MeasureSection(measure=first.measure, rows=measure_rows, leads=first.leads, is_key=first.is_key))
        sections.append(StrategySection(strategy=strategy_rows[0].strategy, measures=measures, summary=summaries[strategy_id]))
    per_agency = completeness_year_to_date(year=year, quarter=quarter, by_agency=True, today=today)
    total = Completeness()
    for counts in per_agency.values():
        total.add(counts)
    reasons = list(draft_reasons or [])
    return NationalReport(
        meta=ReportMeta(plan=plan, year=year, quarter=quarter, data_as_of=timezone.now(), draft=bool(reasons) and cutoff is None, draft_reasons=reasons, cutoff=cutoff),
        left_out=entries_left_out(year=year, quarter=quarter) if cutoff else [],
        strategies=sections, headline=board.headline, other_counts=board.other_counts,
        completeness=sorted(per_agency.values(), key=lambda c: (c.agency.name if c.agency else "")),
        completeness_total=total, tolerance=board.tolerance,
    )


def _attach_previous_figures(rows: list[ReportRow], *, year: int, quarter: int):
    """The year before's figure up to the same quarter, beside each row: of the same indicator,
    or of the one it continues when the year before belongs to the version before; a value
    printed for one agency beside that agency's own."""
    indicator_ids = sorted({row.indicator.pk for row in rows if row.indicator})
    carried_by = predecessors_for_year(indicator_ids, year=year - 1)
    if not carried_by:
        return
    earlier = sorted(set(carried_by.values()))
    kinds = IndicatorKinds.load(earlier)
    national = indicator_figures(year=year - 1, quarter=quarter, indicators=earlier, kinds=kinds)
    own_agencies = sorted({row.value.agency_id for row in rows if row.value and row.value.agency_id})
    own = indicator_figures(
        year=year - 1, quarter=quarter, indicators=earlier, agencies=own_agencies, by=("indicator", "agency"), kinds=kinds,
    ) if own_agencies else {}
    for row in rows:
        earlier_indicator = carried_by.get(row.indicator.pk) if row.indicator else None
        if earlier_indicator is None:
            continue
        if row.value and row.value.agency_id:
            row.previous_figure = own.get((earlier_indicator, row.value.agency_id))
        else:
            row.previous_figure = national.get(earlier_indicator)


def _attach_statements(rows: list[ReportRow], *, year: int, quarter: int):
    """Narratives of the agencies the plan names (a 各機關 row would otherwise carry
    2,000 of them; those are in each agency's own report), and every agency's reason for a
    shortfall on a missed target. Each agency's latest counted words count. One query."""
    indicator_rows = defaultdict(list)
    for row in rows:
        if row.indicator is not None:
            indicator_rows[row.indicator.pk].append(row)
    if not indicator_rows:
        return
    periods = periods_up_to(year=year, quarter=quarter)
    missed_indicators = [pk for pk, items in indicator_rows.items() if any(item.missed for item in items)]
    entries = (
        Entry.objects.filter(period__in=periods, obligation__year=year, state__in=counted_states(False))
        .filter(
            Q(obligation__indicator_id__in=list(indicator_rows), obligation__source=Obligation.Source.NAMED)
            | Q(obligation__indicator_id__in=missed_indicators)
        )
        .filter(~Q(narrative="") | ~Q(shortfall_reason=""))
        .values_list("obligation__indicator_id", "obligation__agency__name", "obligation__source", "period__number", "narrative", "shortfall_reason")
        .order_by("obligation__agency__name", "period__number")
    )
    narratives, shortfalls = defaultdict(dict), defaultdict(dict)
    for indicator_id, agency, source, _number, narrative, shortfall in entries:  # period order: later wins
        if narrative and source == Obligation.Source.NAMED:
            narratives[indicator_id][agency] = narrative
        if shortfall:
            shortfalls[indicator_id][agency] = shortfall
    for indicator_id, items in indicator_rows.items():
        for row in items:
            row.narratives = [Statement(agency, text) for agency, text in narratives[indicator_id].items()]
            if row.missed:
                row.shortfalls = [Statement(agency, text) for agency, text in shortfalls[indicator_id].items()]


# ------------------------------------------------------------------ per agency


def agencies_reporting(*, year: int):
    """Agencies with obligations in the year: those that get an annual report."""
    return Agency.objects.filter(pk__in=Obligation.objects.filter(year=year).values("agency_id")).order_by("name")


def agency_report(*, agency: Agency, year: int, quarter: int = 4, draft_reasons=None, today: datetime.date | None = None) -> AgencyReport:
    """One agency's annual report: everything it owes with its entries and figures."""
    from ..services import plan_for_year

    today = today or timezone.localdate()
    plan = plan_for_year(year)
    lines = agency_obligations(agency=agency, year=year, quarter=quarter, include_submitted=False)
    value_year = value_year_for(plan=plan, year=year)
    indicator_ids = [line.obligation.indicator_id for line in lines]
    values = defaultdict(list)
    for value in (
        TargetValue.objects.filter(year=value_year or 0, indicators__in=indicator_ids)
        .filter(Q(agency__isnull=True) | Q(agency=agency))
        .prefetch_related("indicators").order_by("position").distinct()
    ):
        for indicator in value.indicators.all():
            values[indicator.pk].append(value)
    words = defaultdict(lambda: ([], []))
    entries = (
        Entry.objects.filter(obligation__in=[line.obligation for line in lines], period__in=periods_up_to(year=year, quarter=quarter),
                             state__in=counted_states(False))
        .filter(~Q(narrative="") | ~Q(shortfall_reason=""))
        .values_list("obligation_id", "narrative", "shortfall_reason")
        .order_by("period__frequency", "period__number")
    )
    for obligation_id, narrative, shortfall in entries:
        if narrative:
            words[obligation_id][0].append(narrative)
        if shortfall:
            words[obligation_id][1].append(shortfall)
    rows = [
        AgencyReportRow(line=line, values=values.get(line.obligation.indicator_id, []),
                        narratives=words[line.obligation.pk][0][-1:], shortfalls=words[line.obligation.pk][1][-1:])
        for line in lines
    ]
    counts = completeness_year_to_date(year=year, quarter=quarter, agencies=[agency.pk], by_agency=True, today=today)
    reasons = list(draft_reasons or [])
    return AgencyReport(
        meta=ReportMeta(plan=plan, year=year, quarter=quarter, data_as_of=timezone.now(), draft=bool(reasons), draft_reasons=reasons),
        agency=agency, rows=rows, completeness=counts.get(agency.pk) or Completeness(agency=agency),
    )


@dataclass
class AgencyDetailRow:
    """One agency's year-to-date figure on one indicator (the national workbook's detail)."""

    agency: Agency
    obligation: Obligation  # .indicator.measure.strategy are loaded
    figure: object  # Figure or None when nothing counted


def agency_detail_rows(*, year: int, quarter: int = 4) -> list[AgencyDetailRow]:
    """Every obligation of the year with the agency's own figure, by agency then plan order.
    Two queries (plus the aggregation's), whatever the number of agencies."""
    figures = indicator_figures(year=year, quarter=quarter, by=("indicator", "agency"))
    obligations = (
        Obligation.objects.filter(year=year)
        .select_related("agency", "indicator__measure__strategy")
        .order_by("agency__name", "agency_id", "indicator__measure__strategy__position", "indicator__measure__number", "indicator__position")
    )
    return [
        AgencyDetailRow(agency=obligation.agency, obligation=obligation, figure=figures.get((obligation.indicator_id, obligation.agency_id)))
        for obligation in obligations
    ]
