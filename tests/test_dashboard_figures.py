"""The one aggregation path and the status rule, against figures computed by hand."""

import datetime
from decimal import Decimal

import pytest

from agencies.models import Agency
from measures.models import Indicator, TargetValue
from reporting.assessment import Status, assess, months_elapsed
from reporting.models import AssessmentRule, Entry, Obligation, ReportingPeriod
from reporting.selectors.dashboard import DashboardQuery, dashboard
from reporting.selectors.figures import Figure, indicator_figures, indicator_trend
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure

from .conftest import find_measure, publish_year
from .personas import make_personas

pytestmark = pytest.mark.django_db

APPROVED, SUBMITTED, DRAFT, RETURNED, FORWARDED = "approved", "submitted", "draft", "returned", "forwarded"


@pytest.fixture
def year112(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    return plan112


def indicator(plan, strategy, printed, number):
    return Indicator.objects.get(measure=find_measure(plan, strategy, printed), number=number)


def period(year, frequency, number):
    return ReportingPeriod.objects.get(year=year, frequency=frequency, number=number)


def enter(indicator, agency_name, number, state=APPROVED, **values):
    obligation = Obligation.objects.get(year=112, indicator=indicator, agency__name=agency_name)
    return Entry.objects.create(obligation=obligation, period=period(112, indicator.frequency, number), state=state, **values)


def agency(name):
    return Agency.objects.get(name=name)


# ------------------------------------------------------------------ aggregation


def test_counts_are_summed_over_periods_and_agencies_and_only_approved_count(year112):
    counted = indicator(year112, 1, "(一)", 1)  # 各機關: every agency, quarterly, summed
    enter(counted, "交通部", 1, quantity=3)
    enter(counted, "交通部", 2, quantity=4)
    enter(counted, "交通部", 3, quantity=10)
    enter(counted, "經濟部", 1, state=SUBMITTED, quantity=5)
    enter(counted, "經濟部", 2, state=DRAFT, quantity=100)
    enter(counted, "法務部", 1, state=RETURNED, quantity=100)
    enter(counted, "法務部", 2, state=FORWARDED, quantity=2)

    assert indicator_figures(year=112, quarter=2)[counted.pk].quantity == 7
    assert indicator_figures(year=112, quarter=2, include_submitted=True)[counted.pk].quantity == 14  # 7 + 5 + 2
    assert indicator_figures(year=112, quarter=3)[counted.pk].quantity == 17
    figure = indicator_figures(year=112, quarter=4)[counted.pk]
    assert (figure.quantity, figure.entries, figure.agencies) == (17, 3, 1)

    by_agency = indicator_figures(year=112, quarter=4, include_submitted=True, by=("indicator", "agency"))
    assert by_agency[(counted.pk, agency("交通部").pk)].quantity == 17
    assert by_agency[(counted.pk, agency("經濟部").pk)].quantity == 5
    assert by_agency[(counted.pk, agency("法務部").pk)].quantity == 2
    assert (counted.pk, agency("法務部廉政署").pk) not in by_agency


def test_a_ratio_is_the_ratio_of_totals_never_the_mean_of_percentages(year112):
    ratio = indicator(year112, 1, "(一)", 3)
    enter(ratio, "交通部", 1, numerator=1, denominator=2)  # 50%
    enter(ratio, "經濟部", 1, numerator=90, denominator=100)  # 90%
    enter(ratio, "經濟部", 2, numerator=9, denominator=10)  # 90%

    figure = indicator_figures(year=112, quarter=2)[ratio.pk]
    assert (figure.numerator, figure.denominator) == (100, 112)
    assert figure.value == Decimal(100) * 100 / Decimal(112)  # 89.29 %
    mean_of_percentages = (Decimal(50) + 90 + 90) / 3  # 76.67 %
    assert round(figure.value, 2) == Decimal("89.29") and round(figure.value, 2) != round(mean_of_percentages, 2)


def test_milestones_take_each_agencys_latest_then_the_least_advanced(year112):
    milestone = indicator(year112, 2, "(二)", 1)  # latest, quarterly
    lead = Obligation.objects.filter(year=112, indicator=milestone).first().agency.name
    other = Agency.objects.get(name="法務部廉政署")
    Obligation.objects.get_or_create(year=112, agency=other, indicator=milestone, defaults={"role": "assisting", "source": "named"})
    enter(milestone, lead, 1, milestone="in_progress")
    enter(milestone, lead, 2, milestone="done", reached_on=datetime.date(2023, 5, 1))
    enter(milestone, other.name, 1, milestone="done", reached_on=datetime.date(2023, 2, 1))

    assert indicator_figures(year=112, quarter=1)[milestone.pk].milestone == "in_progress"
    figure = indicator_figures(year=112, quarter=2)[milestone.pk]
    assert (figure.milestone, figure.reached_on) == ("done", datetime.date(2023, 5, 1))


def test_grades_take_the_latest_and_levels_are_not_summed_over_periods(year112):
    grade = indicator(year112, 3, "(二)", 2)  # 國防部, yearly
    enter(grade, "國防部", 1, grade="A")
    assert indicator_figures(year=112, quarter=4)[grade.pk].grade == "A"

    level = Indicator.objects.get(measure=find_measure(year112, 7, "(三)"))  # 維持 150 家, latest quarterly
    owner = Obligation.objects.filter(year=112, indicator=level).first().agency.name
    enter(level, owner, 1, quantity=150)
    enter(level, owner, 2, quantity=140)
    assert indicator_figures(year=112, quarter=1)[level.pk].quantity == 150
    assert indicator_figures(year=112, quarter=2)[level.pk].quantity == 140  # the latest level, not 290


def test_scope_limits_figures_to_the_agencies_given(year112):
    counted = indicator(year112, 1, "(一)", 1)
    enter(counted, "交通部", 1, quantity=3)
    enter(counted, "經濟部", 1, quantity=5)
    scoped = indicator_figures(year=112, quarter=4, agencies=[agency("交通部").pk])
    assert scoped[counted.pk].quantity == 3
    assert indicator_figures(year=112, quarter=4)[counted.pk].quantity == 8


def test_trend_gives_each_period_and_the_running_year_to_date(year112):
    counted = indicator(year112, 1, "(一)", 1)
    enter(counted, "交通部", 1, quantity=3)
    enter(counted, "交通部", 2, quantity=4)
    enter(counted, "經濟部", 2, quantity=1)
    trend = indicator_trend(indicator=counted)
    assert {number: figure.quantity for number, figure in trend[112]["periods"].items()} == {1: 3, 2: 5}
    assert {quarter: figure.quantity for quarter, figure in trend[112]["year_to_date"].items()} == {1: 3, 2: 8, 3: 8, 4: 8}


def test_aggregation_runs_a_fixed_number_of_queries(year112, django_assert_num_queries):
    counted = indicator(year112, 1, "(一)", 1)
    with django_assert_num_queries(4):
        indicator_figures(year=112, quarter=4)
    for name in ["交通部", "經濟部", "法務部", "法務部廉政署"]:
        for number in (1, 2, 3):
            enter(counted, name, number, quantity=number)
    with django_assert_num_queries(4):
        indicator_figures(year=112, quarter=4)


# ------------------------------------------------------------------ status rule

END = {q: datetime.date(2023, q * 3, [31, 30, 30, 31][q - 1]) for q in (1, 2, 3, 4)}


def judged(kind, figure, *, quarter, target=None, comparator="at_least", aggregation="sum", frequency="quarterly",
           due_on=None, grade="", as_of=None, tolerance=Decimal(10)):
    value = TargetValue(kind=kind, quantity=target, comparator=comparator if target is not None else "", grade=grade, due_on=due_on)
    return assess(
        value=value, target=target, figure=figure, indicator=Indicator(frequency=frequency, aggregation=aggregation),
        aggregation=aggregation, quarter=quarter, as_of=as_of or END[quarter], tolerance=tolerance,
    ).status


def count(quantity):
    return Figure(kind="quantity", quantity=Decimal(quantity), entries=1, agencies=1)


def ratio(numerator, denominator):
    return Figure(kind="ratio", numerator=Decimal(numerator), denominator=Decimal(denominator), entries=1, agencies=1)


def test_months_elapsed_follow_the_indicators_own_periods():
    assert [months_elapsed(frequency="quarterly", quarter=q) for q in (1, 2, 3, 4)] == [3, 6, 9, 12]
    assert [months_elapsed(frequency="half_yearly", quarter=q) for q in (1, 2, 3, 4)] == [0, 6, 6, 12]
    assert [months_elapsed(frequency="yearly", quarter=q) for q in (1, 2, 3, 4)] == [0, 0, 0, 12]


def test_at_least_counts_are_judged_pro_rata_with_the_tolerance():
    # Target 100 by year end; by Q2 the expectation is 50, on track from 45 (10 % tolerance).
    assert judged("count", count(46), quarter=2, target=Decimal(100)) == Status.ON_TRACK
    assert judged("count", count(45), quarter=2, target=Decimal(100)) == Status.ON_TRACK
    assert judged("count", count(44), quarter=2, target=Decimal(100)) == Status.BEHIND
    assert judged("count", count(100), quarter=2, target=Decimal(100)) == Status.ACHIEVED  # reached early
    assert judged("count", count(99), quarter=4, target=Decimal(100)) == Status.BEHIND  # year end: the target itself
    assert judged("count", count(100), quarter=4, target=Decimal(100)) == Status.ACHIEVED
    assert judged("count", count(44), quarter=2, target=Decimal(100), tolerance=Decimal(20)) == Status.ON_TRACK


def test_at_most_targets_must_not_be_exceeded():
    assert judged("count", count(5), quarter=2, target=Decimal(10), comparator="at_most") == Status.ON_TRACK
    assert judged("count", count(6), quarter=2, target=Decimal(10), comparator="at_most") == Status.BEHIND  # above 5 × 1.1
    assert judged("count", count(11), quarter=2, target=Decimal(10), comparator="at_most") == Status.BEHIND
    assert judged("count", count(10), quarter=4, target=Decimal(10), comparator="at_most") == Status.ACHIEVED
    assert judged("count", count(11), quarter=4, target=Decimal(10), comparator="at_most") == Status.BEHIND


def test_maintain_targets_hold_the_level_all_year_and_are_achieved_only_at_year_end():
    level = {"kind": "maintain", "target": Decimal(150), "aggregation": "latest"}
    assert judged(figure=count(150), quarter=2, **level) == Status.ON_TRACK
    assert judged(figure=count(136), quarter=2, **level) == Status.ON_TRACK  # within 10 %
    assert judged(figure=count(130), quarter=2, **level) == Status.BEHIND  # no pro-rata for a level
    assert judged(figure=count(150), quarter=4, **level) == Status.ACHIEVED
    assert judged(figure=count(149), quarter=4, **level) == Status.BEHIND


def test_about_targets_are_achieved_within_the_tolerance():
    assert judged("count", count(1130), quarter=4, target=Decimal(1250), comparator="about") == Status.ACHIEVED
    assert judged("count", count(1100), quarter=4, target=Decimal(1250), comparator="about") == Status.BEHIND


def test_ratios_are_levels_compared_with_the_target_itself():
    assert judged("ratio", ratio(75, 100), quarter=2, target=Decimal(80), aggregation="ratio") == Status.ON_TRACK
    assert judged("ratio", ratio(70, 100), quarter=2, target=Decimal(80), aggregation="ratio") == Status.BEHIND
    assert judged("ratio", ratio(80, 100), quarter=2, target=Decimal(80), aggregation="ratio") == Status.ON_TRACK  # not final yet
    assert judged("ratio", ratio(79, 100), quarter=4, target=Decimal(80), aggregation="ratio") == Status.BEHIND
    assert judged("ratio", ratio(80, 100), quarter=4, target=Decimal(80), aggregation="ratio") == Status.ACHIEVED


def test_milestones_are_judged_by_their_due_date():
    due = datetime.date(2023, 3, 31)
    in_progress = Figure(kind="milestone", milestone="in_progress", entries=1, agencies=1)
    done = Figure(kind="milestone", milestone="done", reached_on=datetime.date(2023, 3, 1), entries=1, agencies=1)
    assert judged("milestone", done, quarter=1, due_on=due, aggregation="latest") == Status.ACHIEVED
    assert judged("milestone", in_progress, quarter=1, due_on=due, aggregation="latest") == Status.ON_TRACK  # due today
    assert judged("milestone", in_progress, quarter=2, due_on=due, aggregation="latest") == Status.BEHIND  # past due
    assert judged("milestone", in_progress, quarter=3, aggregation="latest") == Status.ON_TRACK  # no date: the year
    assert judged("milestone", in_progress, quarter=4, aggregation="latest") == Status.BEHIND
    # The fourth quarter still running (as_of today, before 31 December) is not yet year end.
    assert judged("milestone", in_progress, quarter=4, aggregation="latest", as_of=datetime.date(2023, 11, 20)) == Status.ON_TRACK


def test_grades_reports_and_missing_figures():
    grade = Figure(kind="grade", grade="A", entries=1, agencies=1)
    assert judged("grade", grade, quarter=4, grade="B", aggregation="latest", frequency="yearly") == Status.ACHIEVED
    worse = Figure(kind="grade", grade="C", entries=1, agencies=1)
    assert judged("grade", worse, quarter=4, grade="B", aggregation="latest", frequency="yearly") == Status.BEHIND
    assert judged("count", None, quarter=2, target=Decimal(10)) == Status.NOT_REPORTED
    assert judged("count", None, quarter=2, target=Decimal(10), frequency="yearly") == Status.NOT_DUE
    text = Figure(kind="text", entries=2, agencies=1)
    assert judged("report_only", text, quarter=2, aggregation="latest") == Status.REPORTED


def test_the_tolerance_comes_from_the_administrators_setting(year112):
    personas = make_personas()
    counted = indicator(year112, 1, "(四)", 1)  # 法務部廉政署辦理12場次
    enter(counted, "法務部廉政署", 1, quantity=2)  # the value is 廉政署's own; Q1 expectation 3; 2 ≥ 3 × 0.9? no → behind at 10 %

    def status():
        board = dashboard(user=personas.aac, query=DashboardQuery(plan=year112, year=112, quarter=1), today=datetime.date(2026, 1, 1))
        return next(row.status for row in board.rows if row.indicator == counted and row.value and row.value.quantity == 12)

    assert status() == Status.BEHIND
    AssessmentRule.objects.create(pk=1, tolerance_percent=Decimal(40))
    assert status() == Status.ON_TRACK


def test_the_benchmark_runs_and_prints_both_timings(year112):
    import io

    from django.core.management import call_command

    make_personas()
    on_time = datetime.datetime(2023, 4, 10, 23, 30, tzinfo=datetime.timezone.utc)  # 4/11 in Taipei
    enter(indicator(year112, 1, "(一)", 1), "交通部", 1, quantity=3, submitted_at=on_time)
    enter(indicator(year112, 1, "(一)", 1), "經濟部", 1, quantity=4, state=Entry.State.SUBMITTED, submitted_at=on_time)
    level = Indicator.objects.get(measure=find_measure(year112, 7, "(三)"))  # 維持 150 家: the latest level counts
    owing = Obligation.objects.filter(year=112, indicator=level).select_related("agency").first()
    enter(level, owing.agency.name, 1, quantity=150)
    out = io.StringIO()
    # The command refuses to time a baseline whose figures differ from the page's.
    call_command("benchmark_dashboard", "--year", "112", "--quarter", "1", "--runs", "1", stdout=out)
    text = out.getvalue()
    assert "全國儀表板" in text and "原生 SQL" in text and "倍數" in text


def test_obligation_years_are_listed_newest_first_without_reading_every_obligation(year112):
    from reporting.selectors import obligation_years

    assert obligation_years() == [112]
    template = Obligation.objects.filter(year=112).first()
    for year in (110, 115):
        Obligation.objects.create(year=year, agency=template.agency, indicator=template.indicator, role=template.role, source=template.source)
    assert obligation_years() == [115, 112, 110]
    Obligation.objects.all().delete()
    assert obligation_years() == []


def test_the_officers_page_shows_a_level_not_a_sum_of_levels(year112):
    from reporting.selectors import year_figure
    from reporting.selectors_entries import agency_items

    level = Indicator.objects.get(measure=find_measure(year112, 7, "(三)"))  # 維持 150 家
    obligation = Obligation.objects.filter(year=112, indicator=level).select_related("indicator").first()
    enter(level, obligation.agency.name, 1, quantity=150)
    enter(level, obligation.agency.name, 2, quantity=140)
    assert year_figure(obligation=obligation) == 140
    rows = [row for measures in agency_items(agency=obligation.agency, year=112, quarter=2).values() for items in measures.values() for row in items]
    assert next(row.year_to_date for row in rows if row.obligation.pk == obligation.pk) == 140


def test_trend_sets_one_year_against_another(year112):
    publish_year(113)
    counted = indicator(year112, 1, "(一)", 1)
    enter(counted, "交通部", 1, quantity=3)
    Entry.objects.create(
        obligation=Obligation.objects.get(year=113, indicator=counted, agency__name="交通部"),
        period=period(113, "quarterly", 1), state=APPROVED, quantity=9,
    )
    trend = indicator_trend(indicator=counted)
    assert sorted(trend) == [112, 113]
    assert (trend[112]["periods"][1].quantity, trend[113]["periods"][1].quantity) == (3, 9)


def test_an_overseeing_reviewer_sees_the_bodies_under_them(year112, client):
    from django.urls import reverse

    personas = make_personas()
    client.force_login(personas.reviewer)
    response = client.get(reverse("dashboard:agency", args=[agency("法務部").pk]), {"year": "112", "quarter": "1"})
    below = {row.agency.name for row in response.context["below"]}
    assert "法務部廉政署" in below and "交通部" not in below
    assert "所屬機關第1季填報完成情形" in response.text


def test_the_agency_page_keeps_the_path_and_the_national_page_links_every_strategy(year112, client):
    from django.urls import reverse

    personas = make_personas()
    client.force_login(personas.reviewer)
    bureau = agency("法務部廉政署")
    page = client.get(reverse("dashboard:agency", args=[bureau.pk]), {"year": "112", "quarter": "1"}).content.decode()
    path = page.split('id="agency-path"')[1].split("</ol>")[0]
    assert reverse("dashboard:agency", args=[agency("法務部").pk]) in path and "法務部廉政署" in path
    assert "行政院" not in path and "全國儀表板" not in path  # above the reviewer's scope, and no national page for them
    client.force_login(personas.aac)
    national = client.get(reverse("dashboard:home"), {"year": "112", "quarter": "1"}).content.decode()
    links = national.split('id="strategy-links"')[1].split("</nav>")[0]
    assert links.count('href="/dashboard/strategies/') == year112.strategies.count()
