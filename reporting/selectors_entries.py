"""Reading entries for the officer's page and the entry pages, always scoped by user."""

from collections import OrderedDict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from agencies.models import Agency
from measures.models import TargetValue

from .models import Entry, Obligation, ReportingPeriod
from .selectors.figures import entries_number


def periods_of_year(year: int) -> list[ReportingPeriod]:
    return list(ReportingPeriod.objects.filter(year=year).order_by("frequency", "number"))


def period_for(periods: list[ReportingPeriod], frequency: str, quarter: int) -> ReportingPeriod | None:
    """The period of ``frequency`` that holds the last month of ``quarter``."""
    month = quarter * 3
    return next((p for p in periods if p.frequency == frequency and p.months[0] <= month <= p.months[1]), None)


@dataclass
class ItemRow:
    obligation: Obligation
    period: ReportingPeriod | None
    entry: Entry | None
    earlier: list = field(default_factory=list)  # entries of earlier periods this year
    year_to_date: object = None
    targets: list = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.entry.state if self.entry else "not_started"

    @property
    def status_label(self) -> str:
        from django.utils.translation import gettext as _

        return self.entry.get_state_display() if self.entry else _("尚未填寫")

    @property
    def unit(self) -> str:
        """How the year-to-date figure is written: the targets' shared unit, "%" for a ratio."""
        if self.obligation.indicator.entry_kind(value_kinds=[v.kind for v in self.targets]) == "ratio":
            return "%"
        units = {value.unit for value in self.targets}
        return units.pop() if len(units) == 1 else ""

    @property
    def progress(self):
        """Year-to-date as a percentage of this agency's own numeric target, when there is one."""
        goal = self.own_goal
        if goal is None or self.year_to_date is None or not goal:
            return None
        return round(self.year_to_date * 100 / goal, 1)

    @property
    def own_goal(self):
        if len(self.targets) != 1 or self.targets[0].quantity is None:
            return None
        target = self.targets[0]
        share = next((s for s in target.shares.all() if s.agency_id == self.obligation.agency_id), None)
        if share is not None:
            return share.quantity
        if target.agency_id == self.obligation.agency_id:
            return target.quantity
        return None


def agency_items(*, agency: Agency, year: int, quarter: int) -> "OrderedDict":
    """An agency's obligations for a quarter, grouped strategy → measure, with entries.

    A fixed number of queries whatever the number of obligations.
    """
    periods = periods_of_year(year)
    obligations = list(
        Obligation.objects.filter(agency=agency, year=year)
        .select_related("indicator__measure__strategy__plan")
        .prefetch_related(Prefetch("indicator__values", queryset=TargetValue.objects.filter(year=year).prefetch_related("shares")))
        .order_by("indicator__measure__strategy__position", "indicator__measure__number", "indicator__position")
    )
    entries = {}
    for entry in Entry.objects.filter(obligation__in=obligations).select_related("period"):
        entries.setdefault(entry.obligation_id, []).append(entry)
    groups: OrderedDict = OrderedDict()
    for obligation in obligations:
        period = period_for(periods, obligation.indicator.frequency, quarter)
        own = sorted(entries.get(obligation.pk, []), key=lambda e: e.period.number)
        current = next((e for e in own if period and e.period_id == period.pk), None)
        earlier = [e for e in own if period and e.period.number < period.number]
        row = ItemRow(
            obligation=obligation, period=period, entry=current, earlier=earlier,
            targets=list(obligation.indicator.values.all()),
            year_to_date=_year_to_date(obligation, [e for e in own if not period or e.period.number <= period.number]),
        )
        measure = obligation.indicator.measure
        strategy_rows = groups.setdefault(measure.strategy, OrderedDict())
        strategy_rows.setdefault(measure, []).append(row)
    return groups


def _year_to_date(obligation, entries):
    kind = obligation.indicator.entry_kind(value_kinds=[v.kind for v in obligation.indicator.values.all()])
    if kind in ("quantity", "ratio"):
        number = entries_number(kind=kind, aggregation=obligation.indicator.aggregation, entries=entries)
        return round(number, 1) if kind == "ratio" and number is not None else number
    latest = [e for e in entries if e.milestone or e.grade or e.text]
    if not latest:
        return None
    last = latest[-1]
    return last.get_milestone_display() if last.milestone else (last.grade or None)


def obligation_for_user(*, user, pk: int) -> Obligation:
    return get_object_or_404(
        Obligation.objects.visible_to(user).select_related("agency", "indicator__measure__strategy__plan"), pk=pk
    )


def entry_for_user(*, user, pk: int) -> Entry:
    return get_object_or_404(
        Entry.objects.filter(obligation__in=Obligation.objects.visible_to(user)).select_related(
            "obligation__agency", "obligation__indicator__measure__strategy__plan", "period", "updated_by"
        ),
        pk=pk,
    )
