"""Synthetic reporting history for demos and scale work: realistic entries for
every obligation of some years.

Entries are written in their final state, straight into the table, without
EntryEvent rows: this is volume data for demos and benchmarks, and an invented
audit trail of who saved, submitted and approved what would pass fiction off
as history (and triple the rows to write).
"""

import datetime
import math
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from agencies.models import Agency
from measures.models import AgencyAssignment, Indicator, TargetValue

from .models import Entry, Obligation, ReportingPeriod

BATCH_SIZE = 5000
TAIPEI = ZoneInfo("Asia/Taipei")

# What becomes of one (obligation, period): cumulative shares; the last 5% stay unreported.
_OUTCOMES = (
    (0.80, Entry.State.APPROVED),
    (0.88, "pending"),  # submitted (awaiting the agency reviewer) or forwarded (awaiting AAC)
    (0.92, Entry.State.RETURNED),
    (0.95, Entry.State.DRAFT),
)
_REPORTED_SHARE = 0.95
_LATE_SHARE = 0.10

_TEXTS = (
    "本期未接獲相關情資，持續注意並配合辦理。",
    "已依規定完成本期資料彙整並函報主管機關。",
    "本期辦理情形良好，相關成果已公開於機關網站。",
    "配合上級機關期程辦理，並持續追蹤後續進度。",
    "已召開工作會議檢討執行情形，並據以修正作業流程。",
    "本期無應辦理事項，將視實際需要適時辦理。",
)
_QUANTITY_NARRATIVES = (
    "本期計辦理{n}{unit}，均依年度計畫期程執行。",
    "本期完成{n}{unit}，相關佐證資料已上傳。",
    "本期辦理{n}{unit}，執行情形良好，將持續推動。",
)
_MILESTONE_NARRATIVES = {
    Entry.Milestone.NOT_STARTED: ("本期尚未啟動，已先行蒐集資料並規劃辦理期程。", "俟相關機關提供資料後啟動辦理。"),
    Entry.Milestone.IN_PROGRESS: ("持續辦理中，將依預定期程完成。", "已完成初稿，刻正辦理意見徵詢。", "已召開研商會議，持續滾動修正。"),
}
_SHORTFALL_REASONS = (
    "本年度受業務調整影響，執行數未達目標值；明年度將提前規劃並加強宣導，以達成目標。",
    "部分活動因配合其他重要政策而延後辦理，已列入明年度優先執行項目。",
    "相關案件數量減少致未達目標，將檢討目標訂定方式並強化橫向聯繫。",
)
_REVIEW_COMMENTS = (
    "請補充佐證資料後再行送出。",
    "填報數值與佐證資料不符，請確認後修正。",
    "執行情形請具體敘明辦理內容及成效。",
)


def demo_entries_ensure(
    *, years: list[int], seed: int = 112, until: datetime.date | None = None, spare_agency_ids: Iterable[int] = ()
) -> int:
    """Create synthetic entries for every obligation of ``years`` and every period
    of its indicator's frequency that ends on or before ``until`` (None: all).

    Idempotent: pairs that already have an entry are left alone. Obligations of
    ``spare_agency_ids`` get nothing (demo officers keep items to fill in).
    Returns the number of entries created.
    """
    spare = set(spare_agency_ids)
    created = 0
    batch: list[Entry] = []
    with _own_updated_at():
        for year in years:
            for entry in _year_entries(year=year, seed=seed, until=until, spare=spare):
                batch.append(entry)
                if len(batch) >= BATCH_SIZE:
                    created += _flush(batch)
        created += _flush(batch)
    return created


def _flush(batch: list[Entry]) -> int:
    Entry.objects.bulk_create(batch, batch_size=BATCH_SIZE)
    count = len(batch)
    batch.clear()
    return count


@contextmanager
def _own_updated_at():
    """Let bulk_create keep each entry's made-up save time: auto_now would stamp
    every row of ten years with today. The switch is process-wide while it lasts,
    so it wraps nothing but this module's bulk writes (run from management commands)."""
    updated_at = Entry._meta.get_field("updated_at")
    updated_at.auto_now = False
    try:
        yield
    finally:
        updated_at.auto_now = True


# ---------------------------------------------------------------- per indicator


@dataclass
class _Indicator:
    """What one indicator needs for a year's synthetic figures."""

    frequency: str
    kind: str  # entry_kind(): quantity, ratio, milestone, grade, text
    latest: bool  # figures are levels (維持…) rather than amounts per period
    unit: str
    factor: float  # how far the country gets towards the target this year
    goals: dict[int, float] = field(default_factory=dict)  # agency → its part of the target for the year
    grade: str = "B"
    deadline: datetime.date | None = None  # milestones: when the plan wants it done
    shortfall_goals: dict[int, tuple[Decimal, str]] = field(default_factory=dict)  # agency → (goal, comparator)


def _reference_values(values: list[TargetValue], year: int) -> list[TargetValue]:
    """The year's target values; for a year the plan prints none, those of the nearest year."""
    years = {value.year for value in values}
    if not years:
        return []
    nearest = year if year in years else min(years, key=lambda y: (abs(y - year), -y))
    return [value for value in values if value.year == nearest]


def _indicators(*, year: int, seed: int, obligations: list[tuple], sizes: dict[int, float]) -> dict[int, _Indicator]:
    owing: dict[int, list[tuple]] = {}
    for obligation in obligations:
        owing.setdefault(obligation[2], []).append(obligation)
    values = Prefetch("values", queryset=TargetValue.objects.prefetch_related("shares").order_by("year", "position"))
    profiles = {}
    for indicator in Indicator.objects.filter(pk__in=owing).prefetch_related(values):
        all_values = list(indicator.values.all())
        reference = _reference_values(all_values, year)
        numeric = [value for value in reference if value.quantity is not None]
        rng = random.Random(f"{seed}:{year}:indicator:{indicator.pk}")
        profile = _Indicator(
            frequency=indicator.frequency,
            # Every year's target kinds, as entry_save reads them.
            kind=indicator.entry_kind(value_kinds=[value.kind for value in all_values]),
            latest=indicator.aggregation == Indicator.Aggregation.LATEST,
            unit=next((value.unit for value in numeric if value.unit), ""),
            factor=rng.uniform(0.6, 1.3),
            grade=next((value.grade for value in all_values if value.grade), "B"),
            deadline=_deadline(reference, year),
        )
        owed = owing[indicator.pk]
        if numeric:
            profile.goals = _spread(numeric, [agency_id for _pk, agency_id, *_rest in owed], sizes)
        profile.shortfall_goals = _shortfall_goals(
            [value for value in all_values if value.year == year and value.quantity is not None], owed
        )
        profiles[indicator.pk] = profile
    return profiles


def _spread(numeric: list[TargetValue], agency_ids: list[int], sizes: dict[int, float]) -> dict[int, float]:
    """Each owing agency's part of the year's target: its share or its own value
    where the plan prints one, the rest of the national figure by agency size."""
    goals: dict[int, float] = {}
    national = next((value for value in numeric if value.agency_id is None), None)
    for value in numeric:
        if value.agency_id is not None:
            goals[value.agency_id] = float(value.quantity)
    if national is not None:
        for share in national.shares.all():
            goals[share.agency_id] = float(share.quantity)
        rest = float(national.quantity) - sum(float(share.quantity) for share in national.shares.all())
        others = [agency_id for agency_id in agency_ids if agency_id not in goals]
        total_size = sum(sizes[agency_id] for agency_id in others)
        for agency_id in others:
            goals[agency_id] = rest * sizes[agency_id] / total_size if rest > 0 else 0.0
    owing = set(agency_ids)
    return {agency_id: goal for agency_id, goal in goals.items() if agency_id in owing}


def _shortfall_goals(year_numeric: list[TargetValue], owed: list[tuple]) -> dict[int, tuple[Decimal, str]]:
    """Which agencies have a target of their own to miss, as entry_below_target decides."""
    if len(year_numeric) != 1:
        return {}
    target = year_numeric[0]
    shares = {share.agency_id: share.quantity for share in target.shares.all()}
    leads = sum(1 for _pk, _agency, _indicator, role, _source in owed if role == AgencyAssignment.Role.LEAD)
    goals = {}
    for _pk, agency_id, _indicator, _role, source in owed:
        if agency_id in shares:
            goals[agency_id] = (shares[agency_id], target.comparator)
        elif target.agency_id == agency_id or (
            target.agency_id is None and not shares and source == Obligation.Source.NAMED and leads == 1
        ):
            goals[agency_id] = (target.quantity, target.comparator)
    return goals


def _deadline(reference: list[TargetValue], year: int) -> datetime.date | None:
    value = next((value for value in reference if value.due_on), None)
    if value is None:
        return None
    # A deadline borrowed from another year's value moves with the year.
    shifted = value.due_on.year + year - value.year
    try:
        return value.due_on.replace(year=shifted)
    except ValueError:  # 29 February
        return value.due_on.replace(year=shifted, day=28)


# ---------------------------------------------------------------- per obligation


@dataclass(frozen=True, slots=True)
class _Period:
    """A period's dates, worked out once rather than per entry."""

    pk: int
    starts_on: datetime.date
    ends_on: datetime.date
    due_on: datetime.date
    is_last_of_year: bool


def _year_entries(*, year: int, seed: int, until: datetime.date | None, spare: set[int]) -> Iterator[Entry]:
    periods_by_frequency: dict[str, list[_Period]] = {}
    for period in ReportingPeriod.objects.filter(year=year).order_by("number"):
        periods_by_frequency.setdefault(period.frequency, []).append(
            _Period(period.pk, period.starts_on, period.ends_on, period.due_on, period.is_last_of_year)
        )
    obligations = list(
        Obligation.objects.filter(year=year).order_by("pk").values_list("pk", "agency_id", "indicator_id", "role", "source")
    )
    if not obligations or not periods_by_frequency:
        return
    agencies = dict(Agency.objects.values_list("pk", "uses_agency_review"))
    # Sizes and figures come from generators seeded per agency, indicator and
    # obligation, so adding agencies or a later ``until`` leaves earlier figures as they were.
    sizes = {pk: random.Random(f"{seed}:agency:{pk}").lognormvariate(0, 0.6) for pk in agencies}
    profiles = _indicators(year=year, seed=seed, obligations=obligations, sizes=sizes)
    period_ids = [period.pk for periods in periods_by_frequency.values() for period in periods]
    existing = set(Entry.objects.filter(period_id__in=period_ids).values_list("obligation_id", "period_id"))
    for pk, agency_id, indicator_id, _role, _source in obligations:
        if agency_id in spare:
            continue
        profile = profiles[indicator_id]
        periods = periods_by_frequency.get(profile.frequency, [])
        rng = random.Random(f"{seed}:{year}:{agency_id}:{indicator_id}")
        # The whole year is planned whatever ``until`` is, so each period always gets the same figures.
        planned = _plan_year(rng, profile, periods, agency_id, uses_review=agencies[agency_id])
        for period, fields in zip(periods, planned, strict=True):
            if fields is None or (until is not None and period.ends_on > until) or (pk, period.pk) in existing:
                continue
            yield Entry(obligation_id=pk, period_id=period.pk, **fields)


def _plan_year(rng: random.Random, profile: _Indicator, periods: list[_Period], agency_id: int, *, uses_review: bool) -> list[dict | None]:
    """Each period's entry fields for one obligation, or None where it goes unreported."""
    planned: list[dict | None] = []
    for period, fields in zip(periods, _values(rng, profile, periods, agency_id), strict=True):
        state = _outcome(rng)
        if state is None:
            planned.append(None)
            continue
        fields["narrative"] = _narrative(rng, profile, fields)
        fields.update(_workflow(rng, period, state, uses_review=uses_review))
        planned.append(fields)
    goal = profile.shortfall_goals.get(agency_id)
    last = planned[-1] if planned and periods[-1].is_last_of_year else None
    if goal is not None and last is not None and _below(profile.kind, [fields for fields in planned if fields], *goal):
        last["shortfall_reason"] = rng.choice(_SHORTFALL_REASONS)
    return planned


def _outcome(rng: random.Random) -> str | None:
    draw = rng.random()
    return next((state for share, state in _OUTCOMES if draw < share), None)


def _values(rng: random.Random, profile: _Indicator, periods: list[_Period], agency_id: int) -> list[dict]:
    if profile.kind == "quantity":
        return _quantities(rng, profile, len(periods), agency_id)
    if profile.kind == "ratio":
        values = []
        for _period in periods:
            denominator = 5 + int(195 * rng.random() ** 2)  # most agencies handle few cases
            numerator = round(denominator * rng.triangular(0.6, 1.0, 0.88))
            values.append({"numerator": Decimal(numerator), "denominator": Decimal(denominator)})
        return values
    if profile.kind == "milestone":
        return _milestones(rng, profile, periods)
    if profile.kind == "grade":
        better, worse = chr(max(ord("A"), ord(profile.grade[0]) - 1)), chr(ord(profile.grade[0]) + 1)
        return [{"grade": rng.choices((profile.grade, better, worse), weights=(80, 12, 8))[0]} for _period in periods]
    return [{"text": rng.choice(_TEXTS)} for _period in periods]


def _quantities(rng: random.Random, profile: _Indicator, count: int, agency_id: int) -> list[dict]:
    if profile.unit == "%":
        return [{"quantity": Decimal(rng.randint(60, 100))} for _period in range(count)]
    goal = profile.goals.get(agency_id)
    # Amounts add up over the year (topped up for the unreported periods, so the
    # national total lands near factor × target); levels (維持…) are reported whole each period.
    if goal is None:
        mean = rng.choice((0.3, 1, 2, 4, 8)) * (1 if profile.latest else 4 / count)
    else:
        mean = goal * profile.factor * rng.uniform(0.8, 1.2) / (1 if profile.latest else count * _REPORTED_SHARE)
    if profile.latest:
        level = _poisson(rng, mean)
        return [{"quantity": Decimal(max(0, round(level * rng.uniform(0.97, 1.03))))} for _period in range(count)]
    return [{"quantity": Decimal(_poisson(rng, mean))} for _period in range(count)]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _milestones(rng: random.Random, profile: _Indicator, periods: list[_Period]) -> list[dict]:
    """Not started → in progress → done over the year; about one in four never gets done."""
    if not periods:
        return []
    year_start, year_end = periods[0].starts_on, periods[-1].ends_on
    done_on = None
    if rng.random() < 0.75:
        deadline = profile.deadline if profile.deadline and year_start <= profile.deadline <= year_end else year_end
        late = deadline < year_end and rng.random() < 0.15
        first, last = (deadline + datetime.timedelta(days=1), year_end) if late else (year_start + datetime.timedelta(days=20), deadline)
        done_on = first + datetime.timedelta(days=int((last - first).days * rng.random() ** 0.7))
    done_index = next((i for i, p in enumerate(periods) if done_on and p.starts_on <= done_on <= p.ends_on), len(periods))
    started_index = min(done_index, int(rng.random() ** 2 * (done_index + 1)))
    values = []
    for index, period in enumerate(periods):
        if index < started_index:
            values.append({"milestone": Entry.Milestone.NOT_STARTED})
        elif index < done_index:
            values.append({"milestone": Entry.Milestone.IN_PROGRESS})
        else:
            # The entry form wants a done item's date inside the period being
            # reported, so periods after completion carry the period's first day.
            values.append({"milestone": Entry.Milestone.DONE, "reached_on": max(done_on, period.starts_on)})
    return values


def _narrative(rng: random.Random, profile: _Indicator, fields: dict) -> str:
    if profile.kind == "quantity":
        if not fields["quantity"]:
            return "本期無相關案件，持續宣導並注意辦理。"
        unit = profile.unit if profile.unit and profile.unit != "%" else "件"
        return rng.choice(_QUANTITY_NARRATIVES).format(n=f"{int(fields['quantity']):,}", unit=unit)
    if profile.kind == "ratio":
        numerator, denominator = fields["numerator"], fields["denominator"]
        return f"本期應辦理{denominator:.0f}件，已完成{numerator:.0f}件，辦理比率{numerator * 100 / denominator:.1f}%。"
    if profile.kind == "milestone":
        if fields["milestone"] == Entry.Milestone.DONE:
            reached = fields["reached_on"]
            return f"已於民國{reached.year - 1911}年{reached.month}月{reached.day}日完成，相關成果已陳報。"
        return rng.choice(_MILESTONE_NARRATIVES[fields["milestone"]])
    if profile.kind == "grade":
        return f"本期評鑑結果為「{fields['grade']}」級，持續精進相關措施。"
    return "辦理情形詳如說明欄。"


def _workflow(rng: random.Random, period: _Period, state: str, *, uses_review: bool) -> dict:
    """State, times, version and review comment as the workflow would have left them."""
    saves = 1 if rng.random() < 0.7 else 2
    if state == Entry.State.DRAFT:
        return {"state": state, "version": saves, "updated_at": _at(rng, period.ends_on - datetime.timedelta(days=rng.randint(0, 20)))}
    submitted_at = _submitted_at(rng, period)
    reviewed_by_agency = uses_review and (state != "pending" or rng.random() < 0.5)
    if state == "pending":
        state = Entry.State.FORWARDED if reviewed_by_agency or not uses_review else Entry.State.SUBMITTED
    version = saves + 1 + (1 if reviewed_by_agency else 0)
    updated_at = submitted_at + datetime.timedelta(hours=rng.randint(1, 72) if reviewed_by_agency else 0)
    if state in (Entry.State.APPROVED, Entry.State.RETURNED):
        version += 1
        updated_at += datetime.timedelta(hours=rng.randint(4, 24 * 14))
    fields = {"state": state, "version": version, "submitted_at": submitted_at, "updated_at": updated_at}
    if state == Entry.State.RETURNED:
        fields["review_comment"] = rng.choice(_REVIEW_COMMENTS)
    return fields


def _submitted_at(rng: random.Random, period: _Period) -> datetime.datetime:
    """Mostly in the last days before the due date; about one in ten after it."""
    if rng.random() < _LATE_SHARE:
        day = period.due_on + datetime.timedelta(days=1 + int(25 * rng.random() ** 2))
    else:
        earliest = max(period.starts_on, period.ends_on - datetime.timedelta(days=5))
        day = period.due_on - datetime.timedelta(days=int((period.due_on - earliest).days * rng.random() ** 2))
    return _at(rng, day)


def _at(rng: random.Random, day: datetime.date) -> datetime.datetime:
    """A time in office hours on ``day``, in Taipei."""
    return datetime.datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59), tzinfo=TAIPEI)


def _below(kind: str, planned: list[dict], goal: Decimal, comparator: str) -> bool:
    """The year's figure against the agency's own goal, computed as year_figure does."""
    if kind == "quantity":
        values = [fields["quantity"] for fields in planned]
        figure = sum(values) if values else None
    elif kind == "ratio":
        pairs = [(fields["numerator"], fields["denominator"]) for fields in planned]
        figure = sum(n for n, _d in pairs) * 100 / sum(d for _n, d in pairs) if pairs else None
    else:
        return False
    if figure is None:
        return False
    return figure > goal if comparator == TargetValue.Comparator.AT_MOST else figure < goal


def demo_stale_periods_lock(*, today) -> int:
    """Lock the periods the daily job would have locked by now (PERIOD_LOCK_AFTER_DAYS past
    due), as if the portal had run since 112, so the demo's to-do lists show today's work."""
    import datetime

    from django.conf import settings

    from .models import PeriodLockNotice, ReportingPeriod

    after = datetime.timedelta(days=settings.PERIOD_LOCK_AFTER_DAYS)
    notice = datetime.timedelta(days=settings.PERIOD_LOCK_NOTICE_DAYS)
    stale = list(ReportingPeriod.objects.exclude(state=ReportingPeriod.State.LOCKED).filter(due_on__lte=today - after))
    for period in stale:
        lock_on = period.due_on + after
        PeriodLockNotice.objects.update_or_create(period=period, defaults={"noticed_on": lock_on - notice, "lock_on": lock_on, "locked_on": lock_on})
    ReportingPeriod.objects.filter(pk__in=[period.pk for period in stale]).update(state=ReportingPeriod.State.LOCKED)
    return len(stale)


def demo_published_report(*, aac, year: int):
    """Last year's national report, final with a cut-off and published, so that NDC has a
    report to download in the demo (made inline, whatever the demo's job settings)."""
    from django.db import transaction

    from .models_reports import ReportJob
    from .services import reports

    published = ReportJob.objects.filter(kind=ReportJob.Kind.NATIONAL, year=year, quarter=4, published_at__isnull=False).first()
    if published is not None:
        return published
    try:
        with transaction.atomic():
            job, _created = reports.report_request(
                user=aac, kind=ReportJob.Kind.NATIONAL, year=year, quarter=4, cutoff_reason="示範：陳報期限已到，以截止點產製正式版",
            )
            # Built here, before the commit queues it: the queued run then finds it done.
            reports.report_run(job_id=job.pk)
    except reports.ReportError:
        return None
    job.refresh_from_db()
    if job.state != ReportJob.State.DONE:
        return None
    return reports.report_publish(user=aac, job=job)
