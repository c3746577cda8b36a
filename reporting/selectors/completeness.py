"""Who has reported for a quarter: everything, part, nothing, or late.

An item is due in a quarter when one of its indicator's periods ends in that
quarter (a yearly item in the fourth quarter, a monthly one three times). It
counts as submitted once the agency sent it on (submitted, forwarded to AAC or
approved); a returned entry is back with the agency and counts as owed. Late
means submitted after the period's due date, or still owed after it.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..models import Entry, Obligation, ReportingPeriod

SUBMITTED_STATES = (Entry.State.SUBMITTED, Entry.State.FORWARDED, Entry.State.APPROVED)


class Completion:
    COMPLETE = "complete"
    PARTIAL = "partial"
    NOTHING = "nothing"
    LABELS = {COMPLETE: _("全部送出"), PARTIAL: _("部分送出"), NOTHING: _("尚未送出")}


def periods_ending_in(*, year: int, quarter: int) -> list[ReportingPeriod]:
    last = quarter * 3
    return [p for p in ReportingPeriod.objects.filter(year=year).order_by("frequency", "number") if last - 2 <= p.months[1] <= last]


@dataclass
class Completeness:
    due: int = 0
    submitted: int = 0
    on_time: int = 0
    late_submitted: int = 0
    due_passed: bool = False  # at least one of the periods is past its due date
    overdue: int = 0  # still owed after the due date
    agency: Agency | None = None
    periods: list = field(default_factory=list)

    def add(self, other: "Completeness"):
        """Another quarter's (or agency's) counts added to these; each period is listed once,
        and whose counts these are stays as it was."""
        self.due += other.due
        self.submitted += other.submitted
        self.on_time += other.on_time
        self.late_submitted += other.late_submitted
        self.overdue += other.overdue
        self.due_passed = self.due_passed or other.due_passed
        self.periods = [*self.periods, *(period for period in other.periods if period not in self.periods)]

    @property
    def missing(self) -> int:
        return self.due - self.submitted

    @property
    def completion(self) -> str:
        if self.due and self.submitted >= self.due:
            return Completion.COMPLETE
        return Completion.PARTIAL if self.submitted else Completion.NOTHING

    @property
    def completion_label(self):
        return Completion.LABELS[self.completion]

    @property
    def is_late(self) -> bool:
        return bool(self.late_submitted or self.overdue)

    @property
    def reporting_rate(self):
        return round(self.submitted * 100 / self.due, 1) if self.due else None

    @property
    def on_time_rate(self):
        return round(self.on_time * 100 / self.due, 1) if self.due else None


def completeness(*, year: int, quarter: int, agencies=None, by_agency: bool = False, today: datetime.date | None = None):
    """The quarter's totals, or with ``by_agency`` {agency_id: Completeness} for every
    agency that owes something (``agencies`` narrows to a scope; None = all).

    Four queries whatever the number of agencies and entries.
    """
    today = today or timezone.localdate()
    periods = periods_ending_in(year=year, quarter=quarter)
    per_frequency = defaultdict(list)
    for period in periods:
        per_frequency[period.frequency].append(period)
    obligations = Obligation.objects.filter(year=year, indicator__frequency__in=list(per_frequency))
    entries = Entry.objects.filter(period__in=periods, obligation__year=year)
    if agencies is not None:
        obligations = obligations.filter(agency_id__in=agencies)
        entries = entries.filter(obligation__agency_id__in=agencies)
    key = ["agency_id"] if by_agency else []
    results: dict = defaultdict(Completeness)
    # Due items and overdue ones: obligations × periods of their frequency ending in the quarter.
    owing = obligations.values(*key, "indicator__frequency").annotate(n=Count("id")).order_by()
    for row in owing:
        result = results[row["agency_id"] if by_agency else None]
        for period in per_frequency[row["indicator__frequency"]]:
            result.due += row["n"]
            if period.due_on < today:
                result.due_passed = True
                result.overdue += row["n"]  # corrected below by what was submitted
    entries = entries.filter(state__in=SUBMITTED_STATES)  # only what was sent on counts
    counters = {
        "submitted": Count("id"),
        "on_time": Count("id", filter=Q(submitted_at__date__lte=F("period__due_on"))),  # the date in Asia/Taipei
        "submitted_past_due": Count("id", filter=Q(period__due_on__lt=today)),
    }
    if by_agency:
        counts = list(entries.values("obligation__agency_id").annotate(**counters).order_by())
    else:
        counts = [{"obligation__agency_id": None, **entries.aggregate(**counters)}]
    for row in counts:
        result = results[row["obligation__agency_id"]]
        result.submitted += row["submitted"]
        result.on_time += row["on_time"]
        result.late_submitted += row["submitted"] - row["on_time"]
        result.overdue -= row["submitted_past_due"]
    if not by_agency:
        total = results[None]
        total.periods = periods
        return total
    for agency in Agency.objects.filter(pk__in=list(results)).only("id", "name", "parent_id", "code"):
        results[agency.pk].agency = agency
        results[agency.pk].periods = periods
    return dict(results)


def completeness_year_to_date(*, year: int, quarter: int, agencies=None, by_agency: bool = False, today: datetime.date | None = None):
    """The quarters 1 … ``quarter`` added up (the annual report's annex): the same counts
    as ``completeness`` per quarter, so the annex and the dashboard agree."""
    total: dict = {} if by_agency else Completeness()
    for each in range(1, quarter + 1):
        counts = completeness(year=year, quarter=each, agencies=agencies, by_agency=by_agency, today=today)
        if not by_agency:
            total.add(counts)
            continue
        for agency_id, agency_counts in counts.items():
            total.setdefault(agency_id, Completeness(agency=agency_counts.agency)).add(agency_counts)
    return total
