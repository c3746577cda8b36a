"""Synthetic history (generate_history, demo_entries_ensure): every obligation and
period of the years gets an entry or a deliberate gap, every entry is one the
entry form would accept, runs are repeatable and idempotent, and bad arguments
are refused in zh-Hant."""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.core.management.base import CommandError

from agencies.models import Agency
from reporting.demo import demo_entries_ensure
from reporting.models import Entry, EntryEvent, Obligation, ReportingPeriod
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure
from reporting.values import KIND_FIELDS, VALUE_FIELDS, clean_entry_values

pytestmark = pytest.mark.django_db

YEARS = (112, 113)


def _history(*args):
    out = io.StringIO()
    call_command("generate_history", "--agencies", "60", "--years", "2", *args, stdout=out)
    return out.getvalue()


def _pairs(years):
    """Every (obligation, period) the years owe."""
    periods = {}
    for period in ReportingPeriod.objects.filter(year__in=years):
        periods.setdefault((period.year, period.frequency), []).append(period)
    return {
        (obligation.pk, period.pk)
        for obligation in Obligation.objects.filter(year__in=years).select_related("indicator")
        for period in periods[(obligation.year, obligation.indicator.frequency)]
    }


def _figures(years):
    return sorted(
        Entry.objects.filter(period__year__in=years).values_list(
            "obligation_id", "period_id", "state", "quantity", "numerator", "denominator", "milestone", "reached_on",
            "grade", "text", "narrative", "submitted_at",
        )
    )


def _year_of_112(spare_agency_ids=()):
    obligations_generate(year=112)
    periods_ensure(year=112)
    return demo_entries_ensure(years=[112], spare_agency_ids=spare_agency_ids)


def test_every_obligation_and_period_gets_an_entry_or_a_deliberate_gap(settings, reference_data):
    settings.DEBUG = True
    output = _history()
    assert "模擬填報資料：新增" in output and "秒" in output

    pairs = _pairs(YEARS)
    entries = set(Entry.objects.filter(period__year__in=YEARS).values_list("obligation_id", "period_id"))
    assert entries <= pairs, "an entry for a period its indicator is not reported in"
    unreported = len(pairs - entries) / len(pairs)
    assert 0.02 < unreported < 0.09, "about 5% of pairs are deliberately left unreported"
    # The gaps are spread out, not whole indicators or agencies forgotten.
    reported_indicators = set(Entry.objects.filter(period__year__in=YEARS).values_list("obligation__indicator_id", flat=True))
    assert reported_indicators == set(Obligation.objects.filter(year__in=YEARS).values_list("indicator_id", flat=True))
    assert f"新增 {len(entries):,} 筆" in output


def test_every_entry_is_one_the_entry_form_accepts(settings, reference_data):
    settings.DEBUG = True
    _history()
    entries = Entry.objects.filter(period__year__in=YEARS).select_related("obligation__agency", "obligation__indicator", "period")
    kinds = {}
    for entry in entries.prefetch_related("obligation__indicator__values"):
        indicator = entry.obligation.indicator
        kind = kinds.setdefault(indicator.pk, indicator.entry_kind(value_kinds=[v.kind for v in indicator.values.all()]))
        units = {v.unit for v in indicator.values.all() if v.year == entry.obligation.year}
        data = {name: getattr(entry, name) for name in VALUE_FIELDS}
        # The same rules (and messages) as the entry form; raises if any value is off.
        cleaned = clean_entry_values(kind=kind, data=data, period=entry.period, unit=units.pop() if len(units) == 1 else "")
        assert all(getattr(entry, name) not in (None, "") for name in KIND_FIELDS[kind] if name != "reached_on"), (kind, entry.pk)
        assert all(cleaned[name] in (None, "") for name in VALUE_FIELDS if name not in KIND_FIELDS[kind]), (kind, entry.pk)
        if kind == "ratio":
            assert 0 <= entry.numerator <= entry.denominator and 5 <= entry.denominator <= 200
        if kind == "milestone":
            assert entry.milestone and (entry.reached_on is not None) == (entry.milestone == Entry.Milestone.DONE)
        assert entry.narrative
        assert (entry.submitted_at is None) == (entry.state == Entry.State.DRAFT)
        assert bool(entry.review_comment) == (entry.state == Entry.State.RETURNED)
        if entry.state == Entry.State.SUBMITTED:
            assert entry.obligation.agency.uses_agency_review, "only agencies with a review step hold submitted entries"
        # Saved when the history says, not when the generator ran.
        assert entry.updated_at < datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
        assert entry.submitted_at is None or entry.updated_at >= entry.submitted_at
    assert not EntryEvent.objects.exists(), "synthetic volume data carries no made-up history"
    assert Entry._meta.get_field("updated_at").auto_now, "ordinary saves stamp the time again"


def test_states_and_lateness_are_mixed_like_real_reporting(settings, reference_data):
    settings.DEBUG = True
    _history()
    entries = Entry.objects.filter(period__year__in=YEARS)
    states = Counter(entries.values_list("state", flat=True))
    total = sum(states.values())
    assert 0.75 < states[Entry.State.APPROVED] / total < 0.90
    assert 0.02 < states[Entry.State.RETURNED] / total < 0.07
    assert 0.01 < states[Entry.State.DRAFT] / total < 0.06
    assert 0.05 < (states[Entry.State.SUBMITTED] + states[Entry.State.FORWARDED]) / total < 0.12
    submitted = list(entries.filter(submitted_at__isnull=False).values_list("submitted_at", "period__due_on"))
    late = sum(1 for at, due_on in submitted if at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date() > due_on)
    assert 0.05 < late / len(submitted) < 0.15
    milestones = Counter(entries.exclude(milestone="").values_list("milestone", flat=True))
    assert set(milestones) == set(Entry.Milestone.values)


def test_running_twice_creates_nothing_the_second_time(settings, reference_data):
    settings.DEBUG = True
    _history()
    before = _figures(YEARS)
    output = _history()
    assert "新增 0 筆" in output
    assert _figures(YEARS) == before


def test_the_same_seed_gives_the_same_figures(reference_data):
    created = _year_of_112()
    first = _figures([112])
    Entry.objects.all().delete()
    assert demo_entries_ensure(years=[112], seed=112) == created
    assert _figures([112]) == first
    Entry.objects.all().delete()
    demo_entries_ensure(years=[112], seed=7)
    assert _figures([112]) != first


def test_until_leaves_later_periods_for_later_and_fills_them_consistently(reference_data):
    obligations_generate(year=112)
    periods_ensure(year=112)
    demo_entries_ensure(years=[112], until=datetime.date(2023, 6, 30))
    ends = {period.ends_on for period in ReportingPeriod.objects.filter(entries__isnull=False).distinct()}
    assert ends and max(ends) <= datetime.date(2023, 6, 30)
    assert demo_entries_ensure(years=[112]) > 0
    at_once = _figures([112])
    Entry.objects.all().delete()
    demo_entries_ensure(years=[112])
    assert _figures([112]) == at_once, "a period gets the same figures whenever it is generated"


def test_spare_agencies_get_no_entries(reference_data):
    spare = list(Agency.objects.filter(name__in=["交通部", "經濟部"]).values_list("pk", flat=True))
    assert _year_of_112(spare_agency_ids=spare) > 0
    assert Obligation.objects.filter(year=112, agency_id__in=spare).exists()
    assert not Entry.objects.filter(obligation__agency_id__in=spare).exists()
    assert Entry.objects.filter(obligation__agency__name="法務部").exists()


def test_setup_demo_leaves_the_demo_officers_items_to_fill_in(settings, reference_data):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    assert "模擬填報資料：新增" in out.getvalue()
    assert Entry.objects.filter(period__year=112).exists()
    assert not Entry.objects.filter(obligation__agency__name__in=["交通部", "經濟部"]).exists()
    # The demo reaches this year: every year after 112 published through the workflow, marked as demo values.
    from measures.models import TargetValue, TargetYear
    from reporting.demo_targets import DEMO_NOTE, current_roc_year
    from reporting.models import TargetProposalEvent

    this_year = current_roc_year()
    published = list(TargetYear.objects.filter(state=TargetYear.State.PUBLISHED).order_by("year").values_list("year", flat=True))
    assert published == list(range(112, this_year + 1))
    assert set(TargetYear.objects.filter(year__gt=112).values_list("note", flat=True)) == {DEMO_NOTE}
    assert not TargetValue.objects.filter(year__gt=112).exclude(note=DEMO_NOTE).exists()
    assert TargetProposalEvent.objects.filter(proposal__target_year__year=this_year, action="forwarded").exists()
    assert Entry.objects.filter(period__year=this_year).exists()
    assert not Entry.objects.filter(period__year=this_year, period__opens_on__gt=timezone.localdate()).exists()  # nothing from the future
    # The chain can be walked: 交通部 uses the agency-review step and has its own reviewer;
    # every demo login has an address, so reminders and notices reach someone.
    from agencies.models import Role, User

    # Periods long past due are locked as the daily job would have; this year's still take entries.
    from reporting.models import ReportingPeriod

    assert not ReportingPeriod.objects.filter(year=112).exclude(state=ReportingPeriod.State.LOCKED).exists()
    assert ReportingPeriod.objects.filter(year=this_year).exclude(state=ReportingPeriod.State.LOCKED).exists()
    # NDC has last year's national report to download: final with a cut-off, published.
    from reporting.models_reports import ReportJob

    report = ReportJob.objects.get(kind="national", year=this_year - 1, quarter=4)
    assert report.published_at and not report.draft and report.cutoff_reason and report.files.filter(format="pdf").exists()
    assert "已發布示範年度報告" in out.getvalue()
    transport = User.objects.get(username="reviewer2")
    assert transport.agency.name == "交通部" and transport.agency.uses_agency_review and transport.has_role(Role.AGENCY_REVIEWER)
    assert not User.objects.filter(username__in=["officer", "officer2", "reviewer", "reviewer2", "aac", "ndc"], email="").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agencies", "-1", "--years", "1"], "--agencies：機關總數不可小於 0"),
        (["--agencies", "0", "--years", "0"], "--years：年度數不可小於 1"),
        (["--agencies", "0", "--years", "-2"], "--years：年度數不可小於 1"),
        (["--agencies", "0", "--years", "1", "--seed", "-5"], "--seed：亂數種子不可小於 0"),
        (["--agencies", "0", "--years", "兩"], "--years：「兩」不是整數"),
        (["--years", "1"], "請以 --agencies 指定機關總數"),
        (["--agencies", "0"], "請以 --years 指定年度數"),
        (["--agencies", "0", "--years", "1", "--first-year", "abc"], "--first-year：「abc」不是有效的民國年度"),
        (["--agencies", "0", "--years", "2", "--first-year", "105"], "民國105年沒有適用的現行方案版本"),
        (["--agencies", "0", "--years", "1", "--until", "2023-13-01"], "--until：「2023-13-01」不是有效日期"),
    ],
)
def test_bad_arguments_are_refused_in_zh_hant_before_anything_is_written(settings, reference_data, args, message):
    settings.DEBUG = True
    agencies = Agency.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("generate_history", *args, stdout=io.StringIO())
    assert Agency.objects.count() == agencies
    assert not Obligation.objects.exists() and not Entry.objects.exists()


def test_refused_without_debug_unless_forced(settings, reference_data):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="只能在 DEBUG 模式使用.*--force"):
        call_command("generate_history", "--agencies", "0", "--years", "1", stdout=io.StringIO())
    assert not Entry.objects.exists()
    call_command("generate_history", "--agencies", "0", "--years", "1", "--force", stdout=io.StringIO())
    assert Entry.objects.filter(period__year=112).exists()
