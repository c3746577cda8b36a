"""The annual report workbooks (national and per agency) as XLSX and ODS: the dashboard
selector's figures as numeric cells, the plan's merged layout, frozen headers, filters,
print setup, escaped formulas, and the same cells in both formats."""

import datetime
import io
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from decimal import Decimal

import openpyxl
import pyexcel_ods3
import pytest
from odf.opendocument import load as load_ods
from odf.table import CoveredTableCell, Table, TableCell, TableHeaderRows, TableRow

from agencies.models import Agency
from measures.models import Indicator, KeyItem
from reporting.assessment import Status
from reporting.exporters.annual_sheets import AgencyReportWorkbook, NationalReportWorkbook, bare_openpyxl_xlsx
from reporting.exporters.dashboard import PERCENT
from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.selectors.annual_report import agency_detail_rows, agency_report, national_report, report_readiness
from reporting.selectors.dashboard import DashboardQuery, dashboard
from reporting.selectors.figures import indicator_figures
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure

from .conftest import find_measure

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2024, 2, 15)  # after every 112 period's deadline
NARRATIVE = "=1+1 已辦理宣導"
SHORTFALL = "+因人力不足，下半年加強查核"
NATIONAL_SHEETS = ["摘要", "執行成果", "院列管", "未達成項目", "各機關明細", "填報完成情形"]


def indicator(plan, strategy, printed, number=None):
    measure = find_measure(plan, strategy, printed)
    return Indicator.objects.get(measure=measure, number=number) if number else Indicator.objects.get(measure=measure)


def enter(indicator, agency_name, number, state=Entry.State.APPROVED, **values):
    obligation = Obligation.objects.get(year=112, indicator=indicator, agency__name=agency_name)
    period = ReportingPeriod.objects.get(year=112, frequency=indicator.frequency, number=number)
    return Entry.objects.create(obligation=obligation, period=period, state=state, **values)


def owner(indicator):
    return Obligation.objects.filter(year=112, indicator=indicator, source=Obligation.Source.NAMED).order_by("agency__name").first().agency.name


@pytest.fixture
def seeded(plan112):
    """A year with a count, a ratio, a milestone and a missed level target."""
    obligations_generate(year=112)
    periods_ensure(year=112)
    count = indicator(plan112, 1, "(一)", 1)
    enter(count, "交通部", 1, quantity=3)
    enter(count, "交通部", 2, quantity=4)
    enter(count, "經濟部", 1, quantity=5)
    enter(count, "經濟部", 2, state=Entry.State.SUBMITTED, quantity=100)  # not counted; makes the report a draft
    ratio = indicator(plan112, 1, "(一)", 3)
    enter(ratio, "交通部", 1, numerator=1, denominator=2)
    enter(ratio, "經濟部", 1, numerator=90, denominator=100)
    milestone = indicator(plan112, 2, "(二)", 1)
    enter(milestone, owner(milestone), 1, milestone="done", reached_on=datetime.date(2023, 3, 1))
    level = indicator(plan112, 7, "(三)")  # 維持 150 家: 140 misses it
    level_owner = owner(level)
    enter(level, level_owner, 1, quantity=150)
    enter(level, level_owner, 4, quantity=140, narrative=NARRATIVE, shortfall_reason=SHORTFALL)
    KeyItem.objects.create(year=112, measure=level.measure)
    KeyItem.objects.create(year=112, measure=count.measure)
    return {"plan": plan112, "count": count, "ratio": ratio, "milestone": milestone, "level": level, "level_owner": level_owner}


@pytest.fixture
def national(seeded):
    report = national_report(year=112, quarter=4, draft_reasons=report_readiness(year=112, quarter=4), today=TODAY)
    return NationalReportWorkbook(report, agency_detail_rows(year=112, quarter=4))


@pytest.fixture
def board(seeded):
    return dashboard(user=None, query=DashboardQuery(plan=seeded["plan"], year=112, quarter=4), today=TODAY)


def xlsx_of(export):
    return openpyxl.load_workbook(io.BytesIO(export.render("xlsx").content))


def header_row(worksheet, first_header):
    return next(row[0].row for row in worksheet.iter_rows(max_col=1) if row[0].value == first_header)


def table(worksheet, first_header):
    """The data rows below the header, as cells."""
    start = header_row(worksheet, first_header)
    return [list(row) for row in worksheet.iter_rows(min_row=start + 1)]


def normalized(rows):
    """Cell values comparable across formats: blanks as "", numbers as floats, no trailing blanks."""
    result = []
    for row in rows:
        values = ["" if value is None else float(value) if isinstance(value, (int, float, Decimal)) else value for value in row]
        while values and values[-1] == "":
            values.pop()
        result.append(values)
    while result and not result[-1]:
        result.pop()
    return result


def number(value):
    return None if value is None else pytest.approx(float(value))


# ------------------------------------------------------------------ national: figures


def test_the_results_sheet_shows_the_dashboards_figures_as_numbers(national, board, artifacts_dir):
    content = national.render("xlsx").content
    (artifacts_dir / "annual-report-112.xlsx").write_bytes(content)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == NATIONAL_SHEETS
    rows = table(workbook["執行成果"], "具體策略")
    assert len(rows) == len(board.rows)
    for cells, row in zip(rows, board.rows):
        values = [cell.value for cell in cells]
        assert (values[5] or "") == (row.indicator.text if row.indicator else "")
        assert values[7] == number(row.target)
        assert values[8] == number(row.figure.value if row.figure else None)
        assert values[11] == number(round(row.assessment.percent, 1) if row.assessment.percent is not None else None)
        assert values[12] == row.status_label
        for index in (7, 8, 11):
            if values[index] is not None:
                assert cells[index].data_type == "n" and isinstance(values[index], (int, float))
        if values[11] is not None:
            assert cells[11].number_format == PERCENT
    by_indicator = {row.indicator.pk: (cells, row) for cells, row in zip(rows, board.rows) if row.indicator and row.value}
    ratio_cells, ratio_row = by_indicator[_ratio_pk(national)]
    assert ratio_cells[8].value == pytest.approx(float(Decimal(9100) / Decimal(102)))  # (1 + 90) ÷ (2 + 100) × 100, a ratio of totals
    assert ratio_cells[8].number_format == PERCENT
    count_cells, _row = by_indicator[_count_pk(national)]
    assert count_cells[8].value == 12  # 3 + 4 + 5; the submitted 100 does not count


def _count_pk(workbook):
    return next(row.indicator.pk for row in workbook.report.rows if row.figure and row.figure.kind == "quantity" and row.figure.quantity == 12)


def _ratio_pk(workbook):
    return next(row.indicator.pk for row in workbook.report.rows if row.figure and row.figure.kind == "ratio")


def test_the_summary_has_the_cover_facts_and_counts_per_strategy_and_status(national, board):
    sheet = xlsx_of(national)["摘要"]
    start = header_row(sheet, "具體策略")
    cover = [sheet.cell(row=r, column=1).value for r in range(1, start)]
    assert cover[0] == "國家廉政建設行動方案 民國112年度執行成果（草稿）"
    assert "報告期間：民國112年（2023年）全年度" in cover
    assert "發布機關：法務部" in cover and "彙編機關：法務部廉政署" in cover
    assert any(line.startswith("資料截止時間：") for line in cover)
    assert any("未經廉政署核定" in line for line in cover)  # the draft's reason
    headers = [cell.value for cell in sheet[start]]
    body = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=start + 1)]
    totals = dict(zip(headers, body[-1]))
    assert body[-1][0] == "合計"
    for status, count in board.headline:
        assert totals[str(status.label)] == count
    assert totals["合計"] == len(board.rows)
    assert [row[-1] for row in body[:-1]] == [summary.total for summary in board.strategies]


def test_missed_targets_list_each_agencys_reason(national, seeded, board):
    sheet = xlsx_of(national)["未達成項目"]
    rows = [[cell.value for cell in row] for row in table(sheet, "具體策略")]
    missed = [row for row in board.rows if row.status in (Status.BEHIND, Status.NOT_REPORTED)]
    assert len([row for row in rows if row[0] is not None]) == len(missed)
    level_row = next(row for row in rows if row[10] == seeded["level_owner"])
    assert level_row[2] == seeded["level"].text and level_row[5] == 140 and level_row[9] == "落後"
    assert level_row[11] == "'" + SHORTFALL  # escaped: a spreadsheet would run it as a formula


def test_the_agency_detail_holds_each_agencys_own_figure(national, seeded):
    sheet = xlsx_of(national)["各機關明細"]
    rows = table(sheet, "機關")
    assert len(rows) == Obligation.objects.filter(year=112).count()
    own = indicator_figures(year=112, quarter=4, by=("indicator", "agency"))
    for agency_name, ratio_value in (("交通部", 50), ("經濟部", 90)):
        figure = own[(seeded["ratio"].pk, Agency.objects.get(name=agency_name).pk)]
        cells = next(r for r in rows if r[0].value == agency_name and r[3].value == seeded["ratio"].text)
        assert cells[5].value == pytest.approx(ratio_value) == pytest.approx(float(figure.value))
        assert cells[5].number_format == PERCENT and cells[5].data_type == "n"
        assert (cells[7].value, cells[8].value) == (figure.numerator, figure.denominator)
    count = next(r for r in rows if r[0].value == "交通部" and r[3].value == seeded["count"].text)
    assert count[5].value == 7 and count[9].value == 2


def test_the_completeness_sheet_ends_with_the_totals(national):
    sheet = xlsx_of(national)["填報完成情形"]
    rows = [[cell.value for cell in row] for row in table(sheet, "機關")]
    report = national.report
    assert len(rows) == len(report.completeness) + 1
    total = report.completeness_total
    assert rows[-1][:6] == ["合計", total.due, total.submitted, total.on_time, total.late_submitted, total.missing]
    assert sum(row[1] for row in rows[:-1]) == total.due


def test_building_the_sheets_runs_no_query(national, django_assert_num_queries):
    with django_assert_num_queries(0):
        national.sheets()


def test_key_items_are_the_measures_under_executive_yuan_control(national, seeded):
    rows = [[cell.value for cell in row] for row in table(xlsx_of(national)["院列管"], "具體策略")]
    key_rows = [row for row in national.report.rows if row.is_key]
    assert {row.measure.pk for row in key_rows} == {seeded["level"].measure_id, seeded["count"].measure_id}
    assert len(rows) == len(key_rows)
    assert {row[1] for row in rows if row[1]} == {row.measure.reference for row in key_rows}
    assert {row[4] for row in rows if row[4]} == {"是"}


# ------------------------------------------------------------------ layout


def test_strategy_and_measure_cells_are_merged_over_their_rows(national):
    sheet = xlsx_of(national)["執行成果"]
    first = header_row(sheet, "具體策略") + 1
    expected, row = set(), first
    for section in national.report.strategies:
        strategy_first = row
        for measure in section.measures:
            if len(measure.rows) > 1:
                expected |= {f"{column}{row}:{column}{row + len(measure.rows) - 1}" for column in "BCDE"}
            row += len(measure.rows)
        if row - 1 > strategy_first:
            expected.add(f"A{strategy_first}:A{row - 1}")
    merged = {str(r) for r in sheet.merged_cells.ranges if r.min_row >= first}
    assert any(r.startswith("A") for r in expected) and any(r.startswith("B") for r in expected)
    assert merged == expected


@pytest.mark.parametrize("name", NATIONAL_SHEETS)
def test_every_sheet_has_a_frozen_filtered_header_and_prints_a4_landscape_fit_to_width(national, name):
    sheets = {sheet.title: sheet for sheet in national.sheets()}
    spec = sheets[name]
    worksheet = xlsx_of(national)[name]
    header = spec.header_row
    assert [cell.value for cell in worksheet[header]] == [title for title, _width in spec.columns]
    assert worksheet.freeze_panes == f"A{header + 1}"
    assert worksheet.print_title_rows.replace("$", "") == f"{header}:{header}"
    assert worksheet.page_setup.orientation == "landscape"
    assert int(worksheet.page_setup.paperSize) == int(worksheet.PAPERSIZE_A4)
    assert worksheet.sheet_properties.pageSetUpPr.fitToPage
    assert (int(worksheet.page_setup.fitToWidth), int(worksheet.page_setup.fitToHeight)) == (1, 0)
    if spec.autofilter:
        assert spec.rows
        last = openpyxl.utils.get_column_letter(len(spec.columns))
        assert worksheet.auto_filter.ref == f"A{header}:{last}{header + len(spec.rows)}"
    assert spec.autofilter or name == "摘要"


# ------------------------------------------------------------------ ODS


def ods_spans(content, name):
    """{(row, column): (rows, columns)} of the merged cells of one table (1-based, as XLSX)."""
    document = load_ods(io.BytesIO(content))
    sheet = next(t for t in document.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == name)
    spans = {}
    for r, row in enumerate(sheet.getElementsByType(TableRow), start=1):
        column = 0
        for cell in row.childNodes:
            if cell.qname[1] not in ("table-cell", "covered-table-cell"):
                continue
            column += 1
            if cell.qname[1] == "table-cell":
                rows, columns = cell.getAttribute("numberrowsspanned"), cell.getAttribute("numbercolumnsspanned")
                if rows or columns:
                    spans[(r, column)] = (int(rows or 1), int(columns or 1))
    return spans


def xlsx_spans(worksheet):
    return {(r.min_row, r.min_col): (r.max_row - r.min_row + 1, r.max_col - r.min_col + 1) for r in worksheet.merged_cells.ranges}


def test_xlsx_and_ods_hold_the_same_cells_merges_and_settings(national, artifacts_dir):
    xlsx_content, ods_content = national.render("xlsx").content, national.render("ods").content
    (artifacts_dir / "annual-report-112.ods").write_bytes(ods_content)
    assert national.render("ods").filename == "annual-report-112.ods"
    xlsx = openpyxl.load_workbook(io.BytesIO(xlsx_content))
    ods = pyexcel_ods3.get_data(io.BytesIO(ods_content), file_type="ods")
    assert list(ods) == xlsx.sheetnames == NATIONAL_SHEETS
    for name in NATIONAL_SHEETS:
        assert normalized(ods[name]) == normalized(xlsx[name].iter_rows(values_only=True)), name
        assert ods_spans(ods_content, name) == xlsx_spans(xlsx[name]), name
    archive = zipfile.ZipFile(io.BytesIO(ods_content))
    content = archive.read("content.xml").decode()
    assert "table:formula" not in content
    # Filter buttons over each table, from its header row down.
    specs = {sheet.title: sheet for sheet in national.sheets()}
    ranges = dict(re.findall(r'table:target-range-address="\'([^\']+)\'\.(A\d+:)', content))
    assert {name: f"A{specs[name].header_row}:" for name in NATIONAL_SHEETS if specs[name].autofilter} == ranges
    # Frozen below the header (settings.xml, as LibreOffice reads it).
    settings = ElementTree.fromstring(archive.read("settings.xml"))
    config = "{urn:oasis:names:tc:opendocument:xmlns:config:1.0}"
    frozen = {
        entry.get(f"{config}name"): {item.get(f"{config}name"): item.text for item in entry.findall(f"{config}config-item")}
        for entry in settings.iter(f"{config}config-item-map-entry") if entry.get(f"{config}name")
    }
    for name in NATIONAL_SHEETS:
        assert frozen[name]["VerticalSplitMode"] == "2"
        assert frozen[name]["VerticalSplitPosition"] == str(specs[name].header_row)
    # A4 landscape, one page wide; the header row repeats on every printed page.
    styles = archive.read("styles.xml").decode()
    assert 'style:print-orientation="landscape"' in styles and 'fo:page-width="29.7cm"' in styles
    assert 'loext:scale-to-X="1"' in styles
    document = load_ods(io.BytesIO(ods_content))
    results = next(t for t in document.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == "執行成果")
    repeated = results.getElementsByType(TableHeaderRows)[0].getElementsByType(TableCell)
    assert [str(cell) for cell in repeated] == [title for title, _width in specs["執行成果"].columns]
    assert not results.getElementsByType(TableHeaderRows)[0].getElementsByType(CoveredTableCell)


def test_ods_numbers_are_numeric_cells_with_the_same_formats(national):
    document = load_ods(io.BytesIO(national.render("ods").content))
    results = next(t for t in document.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == "執行成果")
    percent_cells = [
        row.getElementsByType(TableCell)[11] for row in results.getElementsByType(TableRow)
        if len(row.getElementsByType(TableCell)) > 11 and row.getElementsByType(TableCell)[11].getAttribute("valuetype") == "float"
    ]
    assert percent_cells
    for cell in percent_cells:
        value = float(cell.getAttribute("value"))
        assert str(cell) == f"{value:.1f}"  # shown with one decimal, as "0.0" in XLSX


# ------------------------------------------------------------------ per agency


def test_the_agency_workbook_shows_its_entries_figures_and_words(seeded, artifacts_dir):
    agency = Agency.objects.get(name=seeded["level_owner"])
    report = agency_report(agency=agency, year=112, quarter=4, today=TODAY)
    export = AgencyReportWorkbook(report)
    assert export.identifier == f"annual-report-112-agency-{agency.pk}"
    xlsx_content, ods_content = export.render("xlsx").content, export.render("ods").content
    (artifacts_dir / "annual-report-112-agency.xlsx").write_bytes(xlsx_content)
    (artifacts_dir / "annual-report-112-agency.ods").write_bytes(ods_content)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_content))
    assert workbook.sheetnames == ["填報成果", "填報完成情形"]
    sheet = workbook["填報成果"]
    assert sheet.cell(row=1, column=1).value.startswith(agency.name)
    start = header_row(sheet, "具體策略")
    headers = [cell.value for cell in sheet[start]]
    rows = table(sheet, "具體策略")
    assert len(rows) == Obligation.objects.filter(year=112, agency=agency).count()
    level = next(r for r in rows if r[2].value == seeded["level"].text)
    values = dict(zip(headers, level))
    assert values["112年第1季"].value == 150 and values["112年第4季"].value == 140
    figure = indicator_figures(year=112, quarter=4, by=("indicator", "agency"))[(seeded["level"].pk, agency.pk)]
    assert values["年度累計值"].value == figure.value == 140 and values["年度累計值"].data_type == "n"
    narrative = values["執行情形"]
    assert narrative.value == "'" + NARRATIVE and narrative.data_type == "s"  # text, never a formula
    assert values["未達成原因及策進作為"].value == "'" + SHORTFALL
    assert sheet.freeze_panes == f"A{start + 1}" and sheet.auto_filter.ref.startswith(f"A{start}:")
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows.replace("$", "") == f"{start}:{start}"
    completeness = [[cell.value for cell in row] for row in table(workbook["填報完成情形"], "機關")]
    assert completeness[0][:3] == [agency.name, report.completeness.due, report.completeness.submitted]
    ods = pyexcel_ods3.get_data(io.BytesIO(ods_content), file_type="ods")
    for name in workbook.sheetnames:
        assert normalized(ods[name]) == normalized(workbook[name].iter_rows(values_only=True))
    assert b"table:formula" not in zipfile.ZipFile(io.BytesIO(ods_content)).read("content.xml")


def test_a_ratio_obligation_shows_percentages_per_period(seeded):
    agency = Agency.objects.get(name="交通部")
    workbook = openpyxl.load_workbook(io.BytesIO(AgencyReportWorkbook(agency_report(agency=agency, year=112, quarter=4, today=TODAY)).render("xlsx").content))
    sheet = workbook["填報成果"]
    headers = [cell.value for cell in sheet[header_row(sheet, "具體策略")]]
    row = dict(zip(headers, next(r for r in table(sheet, "具體策略") if r[2].value == seeded["ratio"].text)))
    assert row["112年第1季"].value == 50 and row["112年第1季"].number_format == PERCENT
    assert row["年度累計值"].value == 50 and row["年度累計值"].number_format == PERCENT
    assert (row["分子合計"].value, row["分母合計"].value) == (1, 2)


# ------------------------------------------------------------------ benchmark baseline


def test_the_bare_baseline_writes_the_same_cell_values(national):
    sheets = national.sheets()
    specs = {sheet.title: sheet for sheet in sheets}
    ours = openpyxl.load_workbook(io.BytesIO(national.render("xlsx").content))
    bare = openpyxl.load_workbook(io.BytesIO(bare_openpyxl_xlsx(sheets)))
    assert bare.sheetnames == ours.sheetnames
    for name in ours.sheetnames:
        assert list(bare[name].iter_rows(values_only=True)) == list(ours[name].iter_rows(values_only=True))
        assert xlsx_spans(bare[name]) == {key: span for key, span in xlsx_spans(ours[name]).items() if key[0] > len(specs[name].title_lines)}


def test_an_entry_not_yet_approved_reads_the_same_in_the_workbook_and_the_pdf(seeded):
    from reporting.exporters.annual_pdf import entry_text

    economy = Agency.objects.get(name="經濟部")
    report = agency_report(agency=economy, year=112)
    worksheet = openpyxl.load_workbook(io.BytesIO(AgencyReportWorkbook(report).render("xlsx").content))["填報成果"]
    submitted = Entry.objects.get(obligation__agency=economy, state=Entry.State.SUBMITTED)
    shown = [cell.value for row in worksheet.iter_rows() for cell in row if isinstance(cell.value, str) and "未計入" in cell.value]
    assert shown == [entry_text(submitted)] == ["已送出（待機關審核）（未計入）"]
