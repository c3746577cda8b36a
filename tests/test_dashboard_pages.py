"""The completion dashboards as people use them: one figure on the page, in every export
and in the drill-down; each persona sees only its own agencies; bad query strings become
messages, never server errors; filters; completeness with the one-click reminder; and
query counts that do not grow with the number of agencies and entries."""

import csv
import datetime
import html
import io
import re
from collections import defaultdict
from decimal import Decimal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import openpyxl
import pyexcel_ods3
import pytest
from django.contrib import messages as message_levels
from django.contrib.messages import get_messages
from django.db.models import Count
from django.urls import reverse

from agencies.models import Agency, Role, User
from measures.models import AgencyAssignment, Indicator, KeyItem, Measure, Strategy
from reporting.assessment import HEADLINE_STATUSES, Status
from reporting.models import Entry, Notice, Obligation, ReportingPeriod
from reporting.selectors.completeness import periods_ending_in
from reporting.selectors.figures import IndicatorKinds
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure

from .personas import make_personas, user_with_role

pytestmark = pytest.mark.django_db

TAIPEI = ZoneInfo("Asia/Taipei")
Q2 = {"year": "112", "quarter": "2"}
Q4 = {"year": "112", "quarter": "4"}
FORMATS = ["xlsx", "ods", "csv"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Seven personas per test: hashing their passwords properly would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    return make_personas()


# ------------------------------------------------------------------ helpers


def _every_agency_indicator(aggregation):
    """The first quarterly indicator of ``aggregation`` that 各機關 owe, so many agencies report it."""
    indicator = (
        Indicator.objects.filter(
            aggregation=aggregation, frequency=Indicator.Frequency.QUARTERLY,
            obligations__year=112, obligations__source=Obligation.Source.EVERY_AGENCY,
        )
        .annotate(owed=Count("obligations"))
        .order_by("measure__strategy__position", "measure__number", "position")
        .first()
    )
    assert indicator is not None and indicator.owed > 10
    return indicator


def _at(day, hour=12):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TAIPEI)


def _entry(agency, indicator, number, *, state=Entry.State.APPROVED, **values):
    """One entry of ``agency`` (a name) for the indicator's period ``number``, sent on time."""
    obligation = Obligation.objects.get(year=112, agency__name=agency, indicator=indicator)
    period = ReportingPeriod.objects.get(year=112, frequency=indicator.frequency, number=number)
    return Entry.objects.create(
        obligation=obligation, period=period, state=state, narrative="x",
        submitted_at=_at(period.due_on - datetime.timedelta(days=1)), **values,
    )


def _report_quarter(agency, *, quarter=1, late=False, count=None, state=Entry.State.APPROVED):
    """Entries for the items ``agency`` owes in ``quarter`` (the first ``count`` of them),
    sent the day before the due date or, with ``late``, five days after it."""
    periods = periods_ending_in(year=112, quarter=quarter)
    obligations = Obligation.objects.filter(year=112, agency__name=agency).select_related("indicator").order_by("pk")
    items = [(o, p) for o in obligations for p in periods if p.frequency == o.indicator.frequency]
    items = items[:count] if count is not None else items
    shift = datetime.timedelta(days=5 if late else -1)
    Entry.objects.bulk_create(
        Entry(obligation=o, period=p, state=state, quantity=1, narrative="x", submitted_at=_at(p.due_on + shift)) for o, p in items
    )
    return len(items)


def _more_agencies(count):
    """``count`` more reporting bodies under 行政院; each owes every 各機關 item once obligations are regenerated."""
    parent = Agency.objects.get(name="交通部").parent
    Agency.objects.bulk_create(Agency(name=f"測試機關{n:03d}", parent=parent) for n in range(count))
    obligations_generate(year=112)


def _messages(response, level=message_levels.WARNING):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == level]


def _rows_of(response, indicator):
    rows = [row for row in response.context["board"].shown_rows if row.indicator and row.indicator.pk == indicator.pk]
    assert rows, "the indicator has no row on the dashboard"
    return rows


def _download(client, url, params, fmt):
    response = client.get(url, {**params, "export": "1", "format": fmt})
    assert response.status_code == 200, response.status_code
    assert "attachment" in response["Content-Disposition"] and f".{fmt}" in response["Content-Disposition"]
    return response.content


def _table(client, url, params, fmt):
    """An export's first sheet read back with the tool a user would use: a list of dicts keyed by the header row."""
    content = _download(client, url, params, fmt)
    if fmt == "xlsx":
        rows = [[cell.value for cell in row] for row in openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows()]
    elif fmt == "ods":
        rows = next(iter(pyexcel_ods3.get_data(io.BytesIO(content), file_type="ods").values()))
    else:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, *body = rows
    return [dict(zip(header, row)) for row in body]


def _number(value, fmt):
    """A cell as a Decimal; in XLSX and ODS it must be stored as a number, not text."""
    if fmt == "csv":
        return Decimal(value)
    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{value!r} is not a number"
    return Decimal(str(value))


def _filled(value):
    return value not in (None, "")


# ------------------------------------------------------------------ 1. one figure everywhere


def test_a_summed_figure_agrees_on_the_page_in_every_export_and_in_the_drill_down(client, world):
    indicator = _every_agency_indicator(Indicator.Aggregation.SUM)
    _entry("交通部", indicator, 1, quantity=Decimal("3.25"))
    _entry("交通部", indicator, 2, quantity=Decimal("4.5"))
    _entry("經濟部", indicator, 1, quantity=Decimal("10"))
    _entry("經濟部", indicator, 2, quantity=Decimal("0.75"))
    _entry("法務部廉政署", indicator, 2, quantity=Decimal("21.25"))
    _entry("內政部", indicator, 1, quantity=Decimal("100"), state=Entry.State.SUBMITTED)  # in review: not counted
    _entry("勞動部", indicator, 3, quantity=Decimal("1000"))  # after the second quarter
    per_agency = {"交通部": Decimal("7.75"), "經濟部": Decimal("10.75"), "法務部廉政署": Decimal("21.25")}
    total = sum(per_agency.values())
    assert total == Decimal("39.75")
    client.force_login(world.aac)

    home = reverse("dashboard:home")
    response = client.get(home, Q2)
    assert response.status_code == 200
    for row in _rows_of(response, indicator):
        assert row.figure.value == total and row.figure.agencies == 3
    # The same row on the strategy and measure pages.
    for url in (reverse("dashboard:strategy", args=[indicator.measure.strategy_id]), reverse("dashboard:measure", args=[indicator.measure_id])):
        assert {row.figure.value for row in _rows_of(client.get(url, Q2), indicator)} == {total}

    for fmt in FORMATS:
        rows = [row for row in _table(client, home, Q2, fmt) if row["績效衡量指標"] == indicator.text]
        assert rows, fmt
        for row in rows:
            assert _number(row["年度累計值"], fmt) == total, fmt
            assert _number(row["填報機關數"], fmt) == 3, fmt

    # The drill-down: each agency's year-to-date figure, adding up to the national one.
    url = reverse("dashboard:indicator", args=[indicator.pk])
    response = client.get(url, Q2)
    assert response.status_code == 200
    assert {row.figure.value for row in _rows_of(response, indicator)} == {total}
    rows = response.context["rows"]
    assert len(rows) == indicator.owed
    reported = {row.agency.name: row.figure.value for row in rows if row.reported}
    assert reported == per_agency
    assert sum(row.figure.value for row in rows if row.figure and row.figure.value is not None) == total
    for fmt in FORMATS:
        exported = _table(client, url, Q2, fmt)
        assert len(exported) == indicator.owed, fmt
        figures = {row["機關"]: _number(row["年度累計值"], fmt) for row in exported if _filled(row.get("年度累計值"))}
        assert figures == per_agency, fmt
        assert sum(figures.values()) == total


def test_a_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators(client, world):
    indicator = _every_agency_indicator(Indicator.Aggregation.RATIO)
    _entry("交通部", indicator, 1, numerator=1, denominator=4)  # 25%
    _entry("交通部", indicator, 2, numerator=2, denominator=4)  # 50%
    _entry("經濟部", indicator, 1, numerator=9, denominator=12)  # 75%
    _entry("內政部", indicator, 1, numerator=5, denominator=5, state=Entry.State.SUBMITTED)  # in review
    pooled = Decimal(60)  # 12 / 20; the mean of the percentages would be 50, of the agencies' ratios 56.25
    client.force_login(world.aac)

    home = reverse("dashboard:home")
    for row in _rows_of(client.get(home, Q2), indicator):
        assert (row.figure.numerator, row.figure.denominator, row.figure.value) == (12, 20, pooled)
    for fmt in FORMATS:
        rows = [row for row in _table(client, home, Q2, fmt) if row["績效衡量指標"] == indicator.text]
        assert rows, fmt
        for row in rows:
            assert _number(row["年度累計值"], fmt) == pooled, fmt
            assert (_number(row["分子合計"], fmt), _number(row["分母合計"], fmt)) == (12, 20), fmt
    # Counting entries in review as well: 17 / 25.
    with_submitted = {**Q2, "submitted": "1"}
    assert {row.figure.value for row in _rows_of(client.get(home, with_submitted), indicator)} == {Decimal(68)}
    rows = [row for row in _table(client, home, with_submitted, "xlsx") if row["績效衡量指標"] == indicator.text]
    assert {_number(row["年度累計值"], "xlsx") for row in rows} == {Decimal(68)}

    url = reverse("dashboard:indicator", args=[indicator.pk])
    rows = [row for row in client.get(url, Q2).context["rows"] if row.reported]
    assert {row.agency.name: row.figure.value for row in rows} == {"交通部": Decimal("37.5"), "經濟部": Decimal(75)}
    assert sum(row.figure.numerator for row in rows) * 100 / sum(row.figure.denominator for row in rows) == pooled
    exported = _table(client, url, Q2, "xlsx")
    assert {row["機關"]: _number(row["年度累計值"], "xlsx") for row in exported if _filled(row["年度累計值"])} == {
        "交通部": Decimal("37.5"), "經濟部": Decimal(75),
    }


def test_the_drill_down_export_lists_every_agency_beyond_the_first_page(client, world):
    _more_agencies(20)
    indicator = _every_agency_indicator(Indicator.Aggregation.SUM)
    assert indicator.owed > 50
    for n, obligation in enumerate(Obligation.objects.filter(year=112, indicator=indicator).select_related("agency")):
        _entry(obligation.agency.name, indicator, 1, quantity=n + 1)
    total = sum(range(1, indicator.owed + 1))
    client.force_login(world.aac)
    assert {row.figure.value for row in _rows_of(client.get(reverse("dashboard:home"), Q2), indicator)} == {total}
    exported = _table(client, reverse("dashboard:indicator", args=[indicator.pk]), Q2, "xlsx")
    assert len(exported) == indicator.owed
    assert sum(_number(row["年度累計值"], "xlsx") for row in exported) == total


# ------------------------------------------------------------------ 2. scoping per persona


def test_an_officer_sees_and_exports_only_their_own_agency(client, world):
    indicator = _every_agency_indicator(Indicator.Aggregation.SUM)
    _entry("交通部", indicator, 1, quantity=7)
    _entry("經濟部", indicator, 1, quantity=500)
    client.force_login(world.officer_a)
    own = reverse("dashboard:agency", args=[world.agency_a.pk])

    response = client.get(reverse("dashboard:home"), Q2)
    assert response.status_code == 302 and response.url.startswith(own)

    response = client.get(own, Q2)
    assert response.status_code == 200
    assert {row.figure.value for row in _rows_of(response, indicator)} == {7}
    assert {row.agency for row in response.context["rows"]} == {world.agency_a}
    for fmt in FORMATS:
        exported = _table(client, own, Q2, fmt)
        assert len(exported) == Obligation.objects.filter(year=112, agency=world.agency_a).count(), fmt
        assert [_number(row["年度累計值"], fmt) for row in exported if row["績效衡量指標"] == indicator.text] == [7], fmt
        assert not any(_filled(row.get("年度累計值")) and _number(row["年度累計值"], fmt) in (500, 507) for row in exported), fmt

    # Plan-level pages are scoped too.
    strategy = reverse("dashboard:strategy", args=[indicator.measure.strategy_id])
    assert {row.figure.value for row in _rows_of(client.get(strategy, Q2), indicator)} == {7}

    assert client.get(reverse("dashboard:agency", args=[world.agency_b.pk]), Q2).status_code == 404
    assert client.get(reverse("dashboard:agency", args=[world.agency_b.pk]), {**Q2, "export": "1", "format": "xlsx"}).status_code == 404

    response = client.get(reverse("dashboard:completeness"), {**Q2, "branch": world.agency_b.pk})
    assert response.status_code == 200
    assert any(f"機關分支「{world.agency_b.pk}」不存在或不在您的檢視範圍內" in m for m in _messages(response))
    assert {row.agency for row in response.context["page"]} == {world.agency_a}
    assert "經濟部" not in response.text

    url = reverse("dashboard:indicator", args=[indicator.pk])
    response = client.get(url, Q2)
    assert [row.agency.name for row in response.context["rows"]] == ["交通部"]
    assert {row.figure.value for row in _rows_of(response, indicator)} == {7}
    for fmt in FORMATS:
        exported = _table(client, url, Q2, fmt)
        assert [(row["機關"], _number(row["年度累計值"], fmt)) for row in exported] == [("交通部", 7)], fmt


def test_a_reviewer_with_oversight_sees_the_bodies_under_their_agency(client, world):
    indicator = _every_agency_indicator(Indicator.Aggregation.SUM)
    _entry("法務部廉政署", indicator, 1, quantity=5)
    _entry("交通部", indicator, 1, quantity=11)
    moj = Agency.objects.get(name="法務部")
    client.force_login(world.reviewer)
    response = client.get(reverse("dashboard:home"), Q2, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("dashboard:agency", args=[moj.pk]))
    assert {row.figure.value for row in _rows_of(response, indicator)} == {5}  # 法務部 and the bodies under it
    assert "法務部廉政署" in {row.agency.name for row in response.context["below"]}
    assert client.get(reverse("dashboard:agency", args=[Agency.objects.get(name="法務部廉政署").pk]), Q2).status_code == 200
    assert client.get(reverse("dashboard:agency", args=[world.agency_a.pk]), Q2).status_code == 404

    response = client.get(reverse("dashboard:completeness"), Q4)
    assert response.status_code == 200
    names = {row.agency.name for row in response.context["page"]}
    under = set(Agency.objects.descendants(moj.pk, include_self=True).values_list("name", flat=True))
    assert {"法務部", "法務部廉政署", "法務部調查局"} <= names <= under
    assert "交通部" not in names and "經濟部" not in names


@pytest.mark.parametrize("persona", ["aac", "ndc"])
def test_national_roles_see_every_agency(client, world, persona):
    indicator = _every_agency_indicator(Indicator.Aggregation.SUM)
    _entry("交通部", indicator, 1, quantity=7)
    _entry("經濟部", indicator, 1, quantity=500)
    client.force_login(getattr(world, persona))
    response = client.get(reverse("dashboard:home"), Q2)
    assert response.status_code == 200
    assert {row.figure.value for row in _rows_of(response, indicator)} == {507}
    response = client.get(reverse("dashboard:completeness"), Q4)
    owing = set(Obligation.objects.filter(year=112).values_list("agency__name", flat=True))
    assert {row.agency.name for row in response.context["page"]} == owing
    rows = client.get(reverse("dashboard:indicator", args=[indicator.pk]), Q2).context["rows"]
    assert len(rows) == indicator.owed
    assert client.get(reverse("dashboard:agency", args=[world.agency_b.pk]), Q2).status_code == 200


# ------------------------------------------------------------------ 3. bad input never a server error


PLAN101_STRATEGY = "<a plan-101 strategy>"
BAD_FILTERS = [
    ("year", "abc", "「abc」不是有效的民國年度"),
    ("year", "民國999年", "民國999年沒有填報資料"),
    ("year", "999", "民國999年沒有填報資料"),
    ("quarter", "9", "季別「9」無效"),
    ("quarter", "x", "季別「x」無效"),
    ("strategy", "abc", "具體策略「abc」不屬於"),
    ("strategy", PLAN101_STRATEGY, "具體策略「{value}」不屬於"),
    ("lead", "-1", "主辦機關「-1」不存在或不在您的檢視範圍內"),
    ("branch", "99999999", "機關分支「99999999」不存在或不在您的檢視範圍內"),
    ("status", "zz", "狀態「zz」無效"),
]
PAGES = ["home", "strategy", "indicator", "agency", "completeness"]


def _page_url(name):
    if name == "strategy":
        return reverse("dashboard:strategy", args=[Strategy.objects.filter(plan__code="112").order_by("position").first().pk])
    if name == "indicator":
        return reverse("dashboard:indicator", args=[_every_agency_indicator(Indicator.Aggregation.SUM).pk])
    if name == "agency":
        return reverse("dashboard:agency", args=[Agency.objects.get(name="交通部").pk])
    return reverse(f"dashboard:{name}")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("name", "value", "expected"), BAD_FILTERS, ids=[f"{n}={v}" for n, v, _e in BAD_FILTERS])
def test_a_bad_filter_value_is_ignored_with_a_warning(client, world, page, name, value, expected):
    if value == PLAN101_STRATEGY:
        value = str(Strategy.objects.filter(plan__code="101").order_by("position").first().pk)
    expected = expected.format(value=value)
    client.force_login(world.aac)
    response = client.get(_page_url(page), {name: value})
    assert response.status_code == 200
    assert any(expected in m for m in _messages(response)), _messages(response)
    assert expected in response.text  # shown on the page, not only queued
    assert response.context["filters"].query.year == 112  # the page still shows the default view


@pytest.mark.parametrize(("name", "value", "expected"), [("completion", "zz", "完成情形「zz」無效"), ("sort", "zz", "排序方式「zz」無效")])
def test_a_bad_completeness_option_is_ignored_with_a_warning(client, world, name, value, expected):
    client.force_login(world.aac)
    response = client.get(reverse("dashboard:completeness"), {**Q4, name: value})
    assert response.status_code == 200
    assert any(expected in m for m in _messages(response)) and expected in response.text
    assert len(response.context["page"]) == len(set(Obligation.objects.filter(year=112).values_list("agency_id", flat=True)))


@pytest.mark.parametrize("page", ["indicator", "completeness"])
def test_a_bad_page_number_shows_the_first_page(client, world, page):
    client.force_login(world.aac)
    response = client.get(_page_url(page), {**Q4, "page": "abc"})
    assert response.status_code == 200
    assert response.context["page"].number == 1


@pytest.mark.parametrize("page", ["indicator", "completeness"])
def test_a_bad_page_number_is_named_in_a_warning(client, world, page):
    client.force_login(world.aac)
    response = client.get(_page_url(page), {**Q4, "page": "abc"})
    assert any("「abc」" in m for m in _messages(response))


@pytest.mark.parametrize("page", PAGES)
def test_an_unknown_export_format_is_a_404_that_names_it(client, world, page):
    client.force_login(world.aac)
    response = client.get(_page_url(page), {**Q4, "export": "1", "format": "exe"})
    assert response.status_code == 404
    assert response.context["exception"] == "不支援的匯出格式「exe」。"
    assert "找不到" in response.text


def test_the_404_page_tells_which_format_is_unsupported(client, world):
    client.force_login(world.aac)
    response = client.get(reverse("dashboard:home"), {**Q4, "export": "1", "format": "exe"})
    assert "不支援的匯出格式「exe」" in response.text


def test_an_unknown_export_format_of_the_strategy_table_is_a_404(client, world):
    client.force_login(world.aac)
    response = client.get(reverse("dashboard:home"), {**Q4, "export": "1", "table": "strategies", "format": "exe"})
    assert response.status_code == 404
    assert response.context["exception"] == "不支援的匯出格式「exe」。"


@pytest.mark.parametrize("level", ["strategy", "measure"])
def test_a_plan_101_item_says_it_does_not_apply_to_the_year(client, world, plan101, level):
    model = Strategy if level == "strategy" else Measure
    item = model.objects.filter(**({"plan": plan101} if level == "strategy" else {"strategy__plan": plan101})).first()
    client.force_login(world.aac)
    response = client.get(reverse(f"dashboard:{level}", args=[item.pk]), Q4)
    assert response.status_code == 200
    expected = f"此項目屬於{plan101}，不適用民國112年；請改選年度。"
    assert expected in _messages(response) and expected in response.text
    assert "board" not in response.context


# ------------------------------------------------------------------ 4. filters


@pytest.fixture
def judged(world):
    """Year-end figures with every headline status: a summed indicator far below its
    target (behind), a ratio above its target (achieved), the rest unreported."""
    _entry("交通部", _every_agency_indicator(Indicator.Aggregation.SUM), 1, quantity=7)
    _entry("交通部", _every_agency_indicator(Indicator.Aggregation.RATIO), 1, numerator=4, denominator=4)
    return world


def _keys(rows):
    return [(row.measure.pk, row.value.pk if row.value else None, row.indicator.pk if row.indicator else None) for row in rows]


def test_the_status_filter_shows_only_rows_with_that_status(client, judged):
    client.force_login(judged.aac)
    everything = client.get(reverse("dashboard:home"), Q4).context["board"].rows
    for status in (Status.BEHIND, Status.ACHIEVED, Status.NOT_REPORTED):
        response = client.get(reverse("dashboard:home"), {**Q4, "status": status})
        shown = response.context["board"].shown_rows
        assert shown and {row.status for row in shown} == {status}
        assert _keys(shown) == _keys([row for row in everything if row.status == status])
        assert set(re.findall(r'<tr data-status="(\w+)"', response.text)) == {status}


def test_headline_counts_link_to_their_rows(client, judged):
    client.force_login(judged.aac)
    response = client.get(reverse("dashboard:home"), Q4)
    board = response.context["board"]
    cards = re.findall(r'href="(\?[^"#]*status=(\w+)#values)" data-status="\2">.*?headline-count">(\d+)<', response.text, re.DOTALL)
    assert [status for _href, status, _n in cards] == [str(status) for status in HEADLINE_STATUSES]
    for href, status, count in cards:
        assert int(count) == sum(1 for row in board.rows if row.status == status)
        params = dict(parse_qsl(html.unescape(href)[1:].split("#")[0]))
        assert params == {**Q4, "status": status}
        shown = client.get(reverse("dashboard:home"), params).context["board"].shown_rows
        assert len(shown) == int(count) and {row.status for row in shown} <= {status}
    assert {status for status, n in board.headline if n} >= {Status.BEHIND, Status.ACHIEVED, Status.NOT_REPORTED}


def test_the_key_item_filter_shows_only_marked_measures(client, judged):
    measure = _every_agency_indicator(Indicator.Aggregation.SUM).measure
    KeyItem.objects.create(year=112, measure=measure)
    client.force_login(judged.aac)
    everything = client.get(reverse("dashboard:home"), Q4).context["board"].rows
    response = client.get(reverse("dashboard:home"), {**Q4, "key": "1"})
    shown = response.context["board"].shown_rows
    assert shown and {row.measure for row in shown} == {measure} and all(row.is_key for row in shown)
    assert len(shown) == sum(1 for row in everything if row.measure == measure)
    assert "院列管" in response.text


def test_the_strategy_filter_narrows_to_that_strategy(client, judged):
    strategy = Strategy.objects.filter(plan__code="112").order_by("position")[1]
    client.force_login(judged.aac)
    everything = client.get(reverse("dashboard:home"), Q4).context["board"].rows
    shown = client.get(reverse("dashboard:home"), {**Q4, "strategy": strategy.pk}).context["board"].shown_rows
    assert shown and {row.strategy for row in shown} == {strategy}
    assert _keys(shown) == _keys([row for row in everything if row.strategy == strategy])


def test_the_lead_filter_narrows_to_the_measures_that_agency_leads(client, judged):
    lead = Agency.objects.get(name="經濟部")
    led = set(AgencyAssignment.objects.filter(agency=lead, role=AgencyAssignment.Role.LEAD, measure__strategy__plan__code="112").values_list("measure_id", flat=True))
    client.force_login(judged.aac)
    everything = client.get(reverse("dashboard:home"), Q4).context["board"].rows
    shown = client.get(reverse("dashboard:home"), {**Q4, "lead": lead.pk}).context["board"].shown_rows
    assert shown and {row.measure.pk for row in shown} <= led
    assert _keys(shown) == _keys([row for row in everything if row.measure.pk in led])


def test_the_branch_filter_counts_only_that_subtree(client, world):
    indicator = _every_agency_indicator(Indicator.Aggregation.SUM)
    _entry("法務部廉政署", indicator, 1, quantity=5)
    _entry("法務部調查局", indicator, 1, quantity=2)
    _entry("交通部", indicator, 1, quantity=11)
    moj = Agency.objects.get(name="法務部")
    client.force_login(world.aac)
    home = reverse("dashboard:home")
    assert {row.figure.value for row in _rows_of(client.get(home, Q2), indicator)} == {18}
    response = client.get(home, {**Q2, "branch": moj.pk})
    assert {row.figure.value for row in _rows_of(response, indicator)} == {7}
    assert "數值僅計入「法務部」及其所屬機關" in response.text
    assert {row.figure.value for row in _rows_of(client.get(home, {**Q2, "branch": world.agency_a.pk}), indicator)} == {11}
    xlsx = [row for row in _table(client, home, {**Q2, "branch": moj.pk}, "xlsx") if row["績效衡量指標"] == indicator.text]
    assert {_number(row["年度累計值"], "xlsx") for row in xlsx} == {7}
    # The drill-down lists the subtree's agencies only.
    rows = client.get(reverse("dashboard:indicator", args=[indicator.pk]), {**Q2, "branch": moj.pk}).context["rows"]
    under = set(Agency.objects.descendants(moj.pk, include_self=True).values_list("name", flat=True))
    assert rows and {row.agency.name for row in rows} <= under
    assert sum(row.figure.value for row in rows if row.reported) == 7


# ------------------------------------------------------------------ 5. completeness and reminders


@pytest.fixture
def first_quarter(world):
    """The first quarter of 112 (long past due): 交通部 sent everything on time, 經濟部 five
    items, 法務部 everything but after the due date, 內政部 nothing."""
    counts = {
        "交通部": _report_quarter("交通部"),
        "經濟部": _report_quarter("經濟部", count=5),
        "法務部": _report_quarter("法務部", late=True),
    }
    assert counts["交通部"] and counts["經濟部"] == 5 and counts["法務部"]
    # The due date is a Taipei date: 23:30 on it is on time (15:30 UTC), 00:30 the next day
    # is late although it is still the due date in UTC.
    first, second = Entry.objects.filter(obligation__agency__name="經濟部").select_related("period").order_by("pk")[:2]
    first.submitted_at = _at(first.period.due_on, hour=23) + datetime.timedelta(minutes=30)
    second.submitted_at = _at(second.period.due_on + datetime.timedelta(days=1), hour=0) + datetime.timedelta(minutes=30)
    Entry.objects.bulk_update([first, second], ["submitted_at"])
    return world


def test_completeness_tells_complete_partial_nothing_and_late(client, first_quarter):
    client.force_login(first_quarter.aac)
    url = reverse("dashboard:completeness")
    response = client.get(url, {"year": "112", "quarter": "1"})
    assert response.status_code == 200
    rows = {row.agency.name: row for row in response.context["page"]}
    transport, economy, justice, interior = rows["交通部"], rows["經濟部"], rows["法務部"], rows["內政部"]
    assert (transport.completion, transport.is_late, transport.missing, transport.on_time) == ("complete", False, 0, transport.due)
    assert (economy.completion, economy.submitted, economy.missing, economy.is_late) == ("partial", 5, economy.due - 5, True)
    assert (interior.completion, interior.submitted, interior.is_late) == ("nothing", 0, True)
    assert (justice.completion, justice.is_late, justice.on_time, justice.late_submitted, justice.overdue) == ("complete", True, 0, justice.due, 0)
    assert (economy.on_time, economy.late_submitted) == (4, 1)  # one sent half an hour after the due date (Taipei)
    assert response.context["counts"] == {"complete": 2, "partial": 1, "nothing": len(rows) - 3}
    assert "全部送出" in response.text and "部分送出" in response.text and "尚未送出" in response.text

    complete = client.get(url, {"year": "112", "quarter": "1", "completion": "complete"}).context["page"]
    assert {row.agency.name for row in complete} == {"交通部", "法務部"}
    late = client.get(url, {"year": "112", "quarter": "1", "late": "1"}).context["page"]
    assert "交通部" not in {row.agency.name for row in late} and {"經濟部", "法務部", "內政部"} <= {row.agency.name for row in late}

    by_missing = list(client.get(url, {"year": "112", "quarter": "1", "sort": "missing"}).context["page"])
    assert [row.missing for row in by_missing] == sorted((row.missing for row in by_missing), reverse=True)
    assert by_missing[-1].missing == 0 and by_missing[0].missing > economy.missing

    exported = {row["機關"]: row for row in _table(client, url, {"year": "112", "quarter": "1"}, "xlsx")}
    assert (exported["經濟部"]["已送出"], exported["經濟部"]["尚未送出"]) == (5, economy.due - 5)
    assert (exported["法務部"]["逾期送出"], exported["法務部"]["逾期"]) == (justice.due, "是")
    assert exported["交通部"]["逾期"] in (None, "")


def test_one_click_reminds_the_officers_of_late_agencies_once_a_day(client, first_quarter, django_capture_on_commit_callbacks):
    # Reminders go to officers who can be reached by e-mail.
    user_with_role("moi_officer", "內政部", Role.OFFICER, email="moi@example.gov.tw")  # sent nothing
    user_with_role("moj_officer", "法務部", Role.OFFICER, email="moj@example.gov.tw")  # sent everything, late: nothing left to remind of
    user_with_role("mjib_officer", "法務部調查局", Role.OFFICER, email="mjib@example.gov.tw")  # sent nothing; under 法務部
    User.objects.filter(username="officer_b").update(email="officer_b@example.gov.tw")
    client.force_login(first_quarter.aac)
    url = reverse("dashboard:remind")

    # Within a branch: only the late bodies under it.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, {"year": "112", "quarter": "1", "branch": Agency.objects.get(name="法務部").pk})
    assert response.status_code == 302 and response.url.startswith(reverse("dashboard:completeness"))
    assert len(callbacks) == 1
    assert {n.recipient.username for n in Notice.objects.all()} == {"mjib_officer"}
    mjib_notices = Notice.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, {"year": "112", "quarter": "1"})
    assert response.status_code == 302 and len(callbacks) == 1
    notices = Notice.objects.all()
    # Not officer_a (交通部 sent everything on time), not moj_officer (法務部 sent everything, late).
    assert {n.recipient.username for n in notices} == {"officer_b", "moi_officer", "mjib_officer"}
    assert {n.kind for n in notices} == {Notice.Kind.OVERDUE}
    assert notices.filter(recipient__username="mjib_officer").count() == mjib_notices  # already reminded today
    made = notices.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"year": "112", "quarter": "1"}).status_code == 302
    assert Notice.objects.count() == made  # one a day

    client.force_login(first_quarter.officer_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.post(url, {"year": "112", "quarter": "1"}).status_code == 403
    assert not callbacks and Notice.objects.count() == made
    assert client.get(url).status_code == 405


# ------------------------------------------------------------------ 6. query counts


# Pinned on the small data; raise only with a reason (a new query per page, not per row).
# indicator: +1 for the lineage its trend follows across plan versions; completeness: +2 for
# the agencies no reminder reaches (AAC's list).
QUERY_COUNTS = {"home": 31, "indicator": 43, "completeness": 20}


def _fill_year(*, more_agencies):
    """``more_agencies`` more reporting bodies owing every 各機關 item, and an entry for
    every obligation and period of 112 (about 40 × 4 quarters per item and more)."""
    _more_agencies(more_agencies)
    kinds = IndicatorKinds.load()
    periods = defaultdict(list)
    for period in ReportingPeriod.objects.filter(year=112):
        periods[period.frequency].append(period)
    done = set(Entry.objects.values_list("obligation_id", "period_id"))
    values = {
        "quantity": {"quantity": 2}, "ratio": {"numerator": 3, "denominator": 4}, "milestone": {"milestone": Entry.Milestone.IN_PROGRESS},
        "grade": {"grade": "A"}, "text": {"text": "辦理情形"},
    }
    states = [Entry.State.APPROVED, Entry.State.APPROVED, Entry.State.SUBMITTED, Entry.State.RETURNED]
    entries = [
        Entry(obligation=o, period=p, state=states[(o.pk + p.number) % len(states)], narrative="x",
              submitted_at=_at(p.due_on), **values[kinds.entry_kind[o.indicator_id]])
        for o in Obligation.objects.filter(year=112).select_related("indicator")
        for p in periods[o.indicator.frequency]
        if (o.pk, p.pk) not in done
    ]
    Entry.objects.bulk_create(entries, batch_size=2000)
    return len(entries)


@pytest.mark.parametrize("page", ["home", "indicator", "completeness"])
def test_dashboard_pages_run_a_fixed_number_of_queries(client, world, page, django_assert_max_num_queries, django_assert_num_queries):
    _report_quarter("交通部")
    _report_quarter("經濟部", quarter=2, late=True)
    url = _page_url(page)
    client.force_login(world.aac)
    assert client.get(url, Q4).status_code == 200  # warm-up: session and per-process caches

    with django_assert_max_num_queries(QUERY_COUNTS[page]) as small:
        assert client.get(url, Q4).status_code == 200
    owed = Obligation.objects.filter(year=112).count()

    assert _fill_year(more_agencies=40) > 40 * 4 * 10
    assert Obligation.objects.filter(year=112).count() > owed + 40 * 10
    with django_assert_num_queries(len(small)):
        response = client.get(url, Q4)
    assert response.status_code == 200
    if page == "indicator":
        assert response.context["page"].paginator.count > 70 and len(response.context["rows"]) == 50
