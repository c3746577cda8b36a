"""Judging a target value against its figure: achieved, on track, behind, not reported.

The rule, as shown to users on the dashboard (RULE_TEXT):

- **Direction.** 「至少」 and 「約」 targets are reached from below, 「至多」 targets must
  not be exceeded, and 「維持」 targets must hold at or above the figure until the
  year ends.
- **Pro-rata expectation.** A figure that accumulates over the year (counts and
  money summed over periods) is expected to have reached target × (months
  elapsed ÷ 12) by the end of the chosen quarter, counting only periods of the
  indicator's own frequency that have ended. A level (ratios, latest-status
  figures) is expected to be at the target all year.
- **On track** means the year-to-date figure is within the tolerance an
  administrator sets (AssessmentRule) of that expectation: at least expectation
  × (1 − tolerance), or for 「至多」 at most expectation × (1 + tolerance).
- **Achieved**: an accumulating 「至少」 figure that has reached the target, at
  any time; otherwise only at year end (the fourth quarter), when the figure
  meets the target (「約」 within the tolerance).
- **Milestones**: done is achieved; not done is behind once its due date (or,
  without one, the year) has passed, else on track.
- **Grades**: on track (achieved at year end) when at least as good as the target
  grade (A before B).
- **Not reported**: nothing counted yet although a period has ended;
  **not due**: no period of the indicator's frequency has ended yet;
  **reported**: report-only items, or a scope without a target of its own.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from measures.models import Indicator, TargetValue

from .models import Entry
from .selectors.figures import Figure, grade_rank


class Status(models.TextChoices):
    ACHIEVED = "achieved", _("已達成")
    ON_TRACK = "on_track", _("進度符合")
    BEHIND = "behind", _("落後")
    NOT_REPORTED = "not_reported", _("未填報")
    NOT_DUE = "not_due", _("尚未到期")
    REPORTED = "reported", pgettext_lazy("status", "已提報")


HEADLINE_STATUSES = (Status.ACHIEVED, Status.ON_TRACK, Status.BEHIND, Status.NOT_REPORTED)

RULE_TEXT = _(
    "判定方式：「至少」「約」之目標由下往上達成，「至多」之目標不得超過，「維持」之目標須至年底均不低於目標值。"
    "逐期累加之數值（件數、金額），以目標值乘以已結束期間之月數÷12 為預期值；比率與最新狀態類數值，全年以目標值為預期值。"
    "年度累計值不低於預期值扣除容許差距（%(tolerance)s%%）為「進度符合」；累加數值一旦達到目標值即為「已達成」，其他類型於第4季（年底）判定。"
    "里程碑以完成為達成，逾完成期限（無期限者逾年底）未完成為落後。"
)

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Assessment:
    status: Status
    percent: Decimal | None = None  # the figure as a percentage of the target
    expected: Decimal | None = None  # what the figure should have reached by now
    note: str = ""

    @property
    def label(self):
        return self.status.label


def months_elapsed(*, frequency: str, quarter: int) -> int:
    """Months covered by the indicator's periods that have ended by the end of ``quarter``."""
    span = 12 // {"monthly": 12, "quarterly": 4, "half_yearly": 2, "yearly": 1}[frequency]
    return (quarter * 3 // span) * span


def assess(
    *, value: TargetValue | None, target: Decimal | None, figure: Figure | None, indicator: Indicator | None,
    aggregation: str, quarter: int, as_of: date, tolerance: Decimal,
) -> Assessment:
    """Judge one target value (or, with ``value`` None, an indicator without one).

    ``target`` is the quantity that applies in the current scope (the national
    value, or an agency's share); ``as_of`` is the last day that counts (the end of
    the quarter, or today for a quarter still running).
    """
    if indicator is None:
        return Assessment(Status.NOT_REPORTED, note=str(_("此目標值無對應衡量指標，無法由填報資料計算。")))
    elapsed = months_elapsed(frequency=indicator.frequency, quarter=quarter)
    reported = figure is not None and figure.reported
    if not reported:
        return Assessment(Status.NOT_DUE if elapsed == 0 else Status.NOT_REPORTED)
    # Year end: the fourth quarter, once it is over (as_of never runs past today).
    final = quarter == 4 and (as_of.month, as_of.day) == (12, 31)
    if value is None or value.kind == TargetValue.Kind.REPORT_ONLY:
        return Assessment(Status.REPORTED)
    if value.kind == TargetValue.Kind.MILESTONE:
        return _milestone(value, figure, final=final, as_of=as_of)
    if value.kind == TargetValue.Kind.GRADE:
        if not figure.grade:
            return Assessment(Status.NOT_REPORTED)
        good = grade_rank(figure.grade) <= grade_rank(value.grade)
        if final:
            return Assessment(Status.ACHIEVED if good else Status.BEHIND)
        return Assessment(Status.ON_TRACK if good else Status.BEHIND)
    return _numeric(value, target, figure, aggregation=aggregation, elapsed=elapsed, final=final, tolerance=tolerance / HUNDRED)


def _numeric(value, target, figure, *, aggregation, elapsed, final, tolerance) -> Assessment:
    reached = figure.value
    if reached is None:
        return Assessment(Status.NOT_REPORTED)
    if target is None:
        return Assessment(Status.REPORTED, note=str(_("此範圍無分配目標值，僅列出填報數值。")))
    percent = (reached * HUNDRED / target) if target else None
    accumulates = aggregation == Indicator.Aggregation.SUM and figure.kind == "quantity"
    expected = target * elapsed / 12 if accumulates else target
    maintain = value.kind == TargetValue.Kind.MAINTAIN
    if value.comparator == TargetValue.Comparator.AT_MOST:
        if reached > target:
            return Assessment(Status.BEHIND, percent, expected)
        if final:
            return Assessment(Status.ACHIEVED, percent, expected)
        return Assessment(Status.ON_TRACK if reached <= expected * (1 + tolerance) else Status.BEHIND, percent, expected)
    # At least, about, maintain.
    needed = target * (1 - tolerance) if value.comparator == TargetValue.Comparator.ABOUT else target
    if accumulates and not maintain and reached >= needed:
        return Assessment(Status.ACHIEVED, percent, expected)
    if final:
        return Assessment(Status.ACHIEVED if reached >= needed else Status.BEHIND, percent, expected)
    return Assessment(Status.ON_TRACK if reached >= expected * (1 - tolerance) else Status.BEHIND, percent, expected)


def _milestone(value, figure, *, final, as_of) -> Assessment:
    if figure.kind == "milestone":
        done = figure.milestone == Entry.Milestone.DONE
        started = bool(figure.milestone)
    else:
        # A milestone measured by a count (e.g. 辦理場次): done once anything was done.
        done = bool(figure.value)
        started = figure.value is not None
    if not started:
        return Assessment(Status.NOT_REPORTED)
    if done:
        late = value.due_on and figure.reached_on and figure.reached_on > value.due_on
        return Assessment(Status.ACHIEVED, note=str(_("逾期完成")) if late else "")
    overdue = (value.due_on is not None and value.due_on < as_of) or (value.due_on is None and final)
    if overdue:
        return Assessment(Status.BEHIND, note=str(_("已逾完成期限")) if value.due_on else "")
    return Assessment(Status.ON_TRACK)
