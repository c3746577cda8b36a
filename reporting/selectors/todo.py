"""An agency's to-do list: what it still owes, returned entries first, then each period that
has opened and still takes changes, the overdue ones first, each with its due date and the
days left."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..models import Entry, Obligation, PeriodReopening, ReportingPeriod

OWED_STATES = Entry.EDITABLE_STATES  # besides an entry not started: the officer still has to act


@dataclass
class TodoRow:
    obligation: Obligation
    period: ReportingPeriod
    entry: Entry | None

    @property
    def state_label(self) -> str:
        return self.entry.get_state_display() if self.entry else str(_("尚未填寫"))


@dataclass
class TodoPeriod:
    period: ReportingPeriod
    days_left: int  # negative: overdue by that many days
    rows: list[TodoRow] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return -self.days_left


@dataclass
class Todo:
    returned: list[TodoRow]
    periods: list[TodoPeriod]

    @property
    def count(self) -> int:
        return len(self.returned) + sum(len(period.rows) for period in self.periods)


def agency_todo(*, agency: Agency, today: datetime.date) -> Todo:
    """Three queries, whatever the number of obligations and periods."""
    reopened = Exists(PeriodReopening.objects.filter(period=OuterRef("pk"), closed_at__isnull=True).filter(Q(agency__isnull=True) | Q(agency=agency)))
    # Periods that have opened and still take this agency's changes (a locked one only where AAC reopened it).
    periods = list(ReportingPeriod.objects.filter(Q(opens_on__lte=today) & (~Q(state=ReportingPeriod.State.LOCKED) | reopened)))
    years = {period.year for period in periods}
    obligations = list(
        Obligation.objects.filter(agency=agency, year__in=years)
        .select_related("indicator__measure__strategy")
        .order_by("indicator__measure__strategy__position", "indicator__measure__number", "indicator__position")
    )
    entries = {(entry.obligation_id, entry.period_id): entry for entry in Entry.objects.filter(obligation__in=obligations, period__in=periods)}
    returned, by_period = [], {}
    for period in sorted(periods, key=lambda p: (p.due_on, p.frequency, p.number)):
        for obligation in obligations:
            if obligation.year != period.year or obligation.indicator.frequency != period.frequency:
                continue
            entry = entries.get((obligation.pk, period.pk))
            if entry is not None and entry.state not in OWED_STATES:
                continue
            row = TodoRow(obligation=obligation, period=period, entry=entry)
            if entry is not None and entry.state == Entry.State.RETURNED:
                returned.append(row)
                continue
            todo_period = by_period.get(period.pk)
            if todo_period is None:
                todo_period = by_period[period.pk] = TodoPeriod(period=period, days_left=(period.due_on - today).days)
            todo_period.rows.append(row)
    # Overdue first (the longest overdue at the top), then what falls due soonest.
    ordered = sorted(by_period.values(), key=lambda p: (not p.overdue, p.period.due_on))
    return Todo(returned=returned, periods=ordered)

