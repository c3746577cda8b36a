"""The annual report as PDF: the dashboard's figures, page furniture, draft marking,
embedded CJK fonts with every glyph present. Read back with poppler (pdftotext,
pdffonts, pdftoppm)."""

import datetime
import re
import subprocess
import zlib
from functools import cache

import pytest
from django.utils import timezone
from fontTools.ttLib import TTCollection, TTFont

from agencies.models import Agency
from measures.models import Indicator
from measures.templatetags.plan_extras import roc_datetime
from reporting.exporters.annual_pdf import AgencyReportPdf, NationalReportPdf
from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.selectors.annual_report import agency_report, national_report
from reporting.selectors.dashboard import DashboardQuery, dashboard
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure
from reporting.templatetags.dashboard_extras import figure_display, number

from .conftest import find_measure

pytestmark = pytest.mark.django_db

AFTER_YEAR_END = datetime.date(2024, 2, 1)  # the 112 (2023) figures are final
DRAFT_REASONS = ["尚有 2 筆填報資料未經廉政署核定（草稿、待審或退回），未計入成果。"]
SHORTFALL = "第2季起業務調整，案件來源減少；將於113年加強風險評估。"
NARRATIVE = "已於10月15日完成公開作業並函知各機關。"


# ------------------------------------------------------------------ the year


def indicator(plan, strategy, printed, number):
    return Indicator.objects.get(measure=find_measure(plan, strategy, printed), number=number)


def enter(indicator, agency_name, number, **values):
    obligation = Obligation.objects.get(year=112, indicator=indicator, agency__name=agency_name)
    period = ReportingPeriod.objects.get(year=112, frequency=indicator.frequency, number=number)
    submitted_at = timezone.make_aware(datetime.datetime.combine(period.due_on, datetime.time(9)))
    return Entry.objects.create(obligation=obligation, period=period, state=Entry.State.APPROVED, submitted_at=submitted_at, **values)


@pytest.fixture
def year112(plan112):
    """A count that misses its target (300 案) with a reason, a ratio above both of its
    targets (80%, 75%), and a milestone done before its due date."""
    obligations_generate(year=112)
    periods_ensure(year=112)
    count = indicator(plan112, 1, "(一)", 1)
    enter(count, "交通部", 1, quantity=123)
    enter(count, "交通部", 2, quantity=4, shortfall_reason=SHORTFALL)
    ratio = indicator(plan112, 1, "(一)", 3)
    enter(ratio, "經濟部", 1, numerator=45, denominator=50)
    milestone = indicator(plan112, 2, "(二)", 2)
    owner = Obligation.objects.filter(year=112, indicator=milestone).order_by("agency__name").first().agency.name
    enter(milestone, owner, 4, milestone=Entry.Milestone.DONE, reached_on=datetime.date(2023, 10, 15), narrative=NARRATIVE)
    return {"count": count, "ratio": ratio, "milestone": milestone, "milestone_owner": owner}


@pytest.fixture
def draft_report(year112):
    return national_report(year=112, quarter=4, draft_reasons=DRAFT_REASONS, today=AFTER_YEAR_END)


@pytest.fixture
def draft_pdf(draft_report, artifacts_dir):
    content = NationalReportPdf(draft_report).render().content
    path = artifacts_dir / "annual-report-national.pdf"
    path.write_bytes(content)
    return path


@pytest.fixture
def agency_pdf(year112, artifacts_dir):
    report = agency_report(agency=Agency.objects.get(name="交通部"), year=112, quarter=4, today=AFTER_YEAR_END)
    path = artifacts_dir / "annual-report-agency.pdf"
    path.write_bytes(AgencyReportPdf(report).render().content)
    return report, path


# ------------------------------------------------------------------ reading PDFs back


def pdf_text(path, page=None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_count(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def pages_text(path) -> list[str]:
    return pdf_text(path).split("\f")[: page_count(path)]


def fonts(path) -> list[dict]:
    """pdffonts' table as dicts (name, emb, sub, uni)."""
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    rows = []
    for line in lines:
        name, *_rest = line.split()
        emb, sub, uni = line.split()[-5:-2]
        rows.append({"name": name, "emb": emb, "sub": sub, "uni": uni})
    return rows


@cache
def noto_tc_cmap() -> frozenset:
    """Code points of the Noto Sans CJK TC face that fontconfig resolves (a face of a .ttc)."""
    match = subprocess.run(["fc-match", "-f", "%{family}|%{file}|%{index}", "Noto Sans CJK TC"], capture_output=True, text=True, check=True)
    family, path, index = match.stdout.split("|")
    assert "Noto Sans CJK TC" in family, f"fontconfig resolves Noto Sans CJK TC to {family} (install fonts-noto-cjk)"
    if path.endswith(".ttc"):
        font = TTCollection(path, lazy=True).fonts[int(index)]
    else:
        font = TTFont(path, lazy=True)
    assert "Noto Sans CJK TC" in font["name"].getDebugName(1)
    return frozenset(font.getBestCmap())


def pdf_streams(content: bytes):
    """Every stream of the PDF, inflated where compressed."""
    for match in re.finditer(rb"stream\r?\n", content):
        end = content.find(b"endstream", match.end())
        raw = content[match.end():end]
        try:
            yield zlib.decompress(raw)
        except zlib.error:
            yield raw


def line_with(text: str, *parts: str) -> str | None:
    return next((line for line in text.splitlines() if all(part in line for part in parts)), None)


def target_text(row) -> str:
    return f"{number(row.target)}{row.value.unit}"


# ------------------------------------------------------------------ national report


def test_national_pdf_shows_the_dashboard_figures(year112, draft_report, draft_pdf):
    board = dashboard(user=None, query=DashboardQuery(plan=draft_report.meta.plan, year=112, quarter=4), today=AFTER_YEAR_END)
    shown = {(row.value.pk if row.value else None, row.indicator.pk if row.indicator else None): row for row in board.rows}
    text = pdf_text(draft_pdf)
    checked = 0
    for row in draft_report.rows:
        if row.indicator not in (year112["count"], year112["ratio"]) or row.value is None:
            continue
        same = shown[(row.value.pk, row.indicator.pk)]  # the report's row is the dashboard's
        assert (figure_display(same.figure), same.assessment.percent, same.status) == (figure_display(row.figure), row.assessment.percent, row.status)
        expected = (target_text(row), figure_display(row.figure), f"{number(row.assessment.percent, 1)}%", str(row.status_label))
        assert line_with(text, *expected), f"no line shows {expected}"
        checked += 1
    assert checked == 3  # 300 案; 80% and 75% measured by one ratio

    count_row = next(row for row in draft_report.rows if row.indicator == year112["count"])
    assert (figure_display(count_row.figure), str(count_row.status_label)) == ("127", "落後")
    ratio_rows = [row for row in draft_report.rows if row.indicator == year112["ratio"] and row.value]
    assert {figure_display(row.figure) for row in ratio_rows} == {"90%"}
    milestone = next(row for row in draft_report.rows if row.indicator == year112["milestone"] and row.value)
    assert figure_display(milestone.figure) == "已完成"
    assert line_with(text, f"{milestone.value.label}. {milestone.value.display_text[:2]}", "已完成", str(milestone.status_label))
    assert "11月30日" in text  # its due date is the target (民國112年 / 11月30日, wrapped in the column)
    assert NARRATIVE[:10] in text  # the named agency's narrative


def section_text(path, heading, next_heading) -> str:
    """The pages from ``heading`` up to ``next_heading`` (the contents page left out)."""
    pages = pages_text(path)
    first = next(n for n, text in enumerate(pages) if n > 1 and heading in text)
    last = next(n for n, text in enumerate(pages) if n > 1 and next_heading in text)
    return "\n".join(pages[first:last + 1]).split(heading, 1)[1].split(next_heading, 1)[0]


def test_national_pdf_lists_every_missed_target_with_the_agencies_reasons(year112, draft_report, draft_pdf):
    section = section_text(draft_pdf, "肆、未達成目標及原因", "附錄、各機關填報完成情形")
    missed = draft_report.missed
    assert f"落後或未填報之目標值共 {len(missed)} 項" in section
    lines = section.splitlines()
    for row in missed:
        assert any(line.lstrip().startswith(row.measure.reference) for line in lines), row.measure.reference
    count_row = next(row for row in missed if row.indicator == year112["count"])
    assert [(s.agency, s.text) for s in count_row.shortfalls] == [("交通部", SHORTFALL)]
    reason_line = line_with(section, target_text(count_row), "127", "落後")
    assert reason_line and "交通部：" + SHORTFALL[:6] in reason_line.replace(" ", "")
    without_reason = sum(1 for row in missed if not row.shortfalls)
    assert without_reason == len(missed) - 1 and section.count("未提供原因") == without_reason


def test_national_pdf_has_cover_contents_footer_and_draft_marking(draft_report, draft_pdf):
    pages = pages_text(draft_pdf)
    total = page_count(draft_pdf)
    assert total == len(pages) > 5
    for number_, page in enumerate(pages, start=1):
        assert f"第 {number_} 頁／共 {total} 頁" in page
        assert "草稿" in page, f"page {number_} is not marked as a draft"

    cover = pages[0]
    meta = draft_report.meta
    for text in (meta.title, "民國112年（西元2023年）", "法務部", "法務部廉政署 彙編", roc_datetime(meta.data_as_of), *DRAFT_REASONS):
        assert text in cover, text

    toc = pages[1]
    assert "目錄" in toc
    for heading in ("壹、執行成果摘要", "貳、各具體策略執行成果", "參、院列管項目執行成果", "肆、未達成目標及原因", "附錄、各機關填報完成情形"):
        page = next(n for n, text in enumerate(pages, start=1) if n > 2 and heading in text)
        assert re.search(rf"{heading}[ .]*{page}\s*$", toc, re.MULTILINE), f"contents give no page {page} for {heading}"
    for section in draft_report.strategies:
        assert section.strategy.title[:10] in toc

    # Running header on a content page: the title and the period.
    assert meta.title in pages[2] and meta.period_label in pages[2]
    assert any(b"/Outlines" in stream for stream in pdf_streams(draft_pdf.read_bytes()))  # bookmarks


def test_summary_chart_is_svg_with_status_labels_and_the_same_numbers_as_its_table(draft_report):
    html = NationalReportPdf(draft_report).html()
    chart = html[html.index("<svg"): html.index("</svg>")]
    for status, _count in draft_report.headline:
        assert str(status.label) in chart  # the legend names each colour
    for section in draft_report.strategies:
        bar_total = sum(section.summary.count(status) for status, _ in draft_report.headline)
        assert f">{bar_total}</text>" in chart
    assert "https://" not in html.replace("http://www.w3.org/2000/svg", "") and "<link" not in html


def test_final_report_has_no_draft_marking(year112, artifacts_dir):
    report = national_report(year=112, quarter=4, today=AFTER_YEAR_END)
    path = artifacts_dir / "annual-report-national-final.pdf"
    path.write_bytes(NationalReportPdf(report, identifier="final").render().content)
    assert "草稿" not in pdf_text(path)


def test_render_returns_a_named_pdf_file(draft_report):
    exported = NationalReportPdf(draft_report).render()
    assert (exported.filename, exported.content_type) == ("annual-report-112.pdf", "application/pdf")
    assert exported.content.startswith(b"%PDF-")
    assert NationalReportPdf(draft_report, identifier="x").render().filename == "x.pdf"


# ------------------------------------------------------------------ agency report


def test_agency_pdf_shows_its_entries_and_year_to_date_figures(agency_pdf):
    report, path = agency_pdf
    pages = pages_text(path)
    total = len(pages)
    assert "交通部" in pages[0] and report.meta.title in pages[0]
    assert all(f"第 {n} 頁／共 {total} 頁" in page for n, page in enumerate(pages, start=1))
    text = "\n".join(pages)
    row = next(row for row in report.rows if row.measure.reference == "1(一)" and row.indicator.number == 1)
    assert figure_display(row.figure) == "127"
    assert line_with(text, "第1季：123")
    assert line_with(text, "第2季：4")
    assert line_with(text, row.indicator.text[:8], figure_display(row.figure))
    assert SHORTFALL[:5] in text  # the cell wraps the rest
    assert f"{report.completeness.due}" in text and "應填報" in text
    assert "草稿" not in text


# ------------------------------------------------------------------ fonts and glyphs


def test_every_font_is_embedded_noto_sans_cjk_tc(draft_pdf, agency_pdf):
    for path in (draft_pdf, agency_pdf[1]):
        used = fonts(path)
        assert used
        for font in used:
            assert font["emb"] == "yes", font
            assert re.fullmatch(r"[A-Z]{6}\+Noto-Sans-CJK-TC(-Bold)?", font["name"]), font


def test_every_character_has_a_glyph_in_the_embedded_font(draft_pdf, agency_pdf):
    covered = noto_tc_cmap()
    for path in (draft_pdf, agency_pdf[1]):
        text = pdf_text(path)
        assert "\ufffd" not in text
        missing = sorted({char for char in text if not char.isspace() and ord(char) not in covered})
        assert not missing, f"{path.name}: no glyph for {missing}"
        for stream in pdf_streams(path.read_bytes()):
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.DOTALL):
                assert not re.search(rb"^<0000> ", block, re.MULTILINE), f"{path.name}: text drawn with .notdef (glyph 0)"


# ------------------------------------------------------------------ for a person to look at


def test_pages_rendered_as_images(draft_pdf, agency_pdf, artifacts_dir):
    pages = pages_text(draft_pdf)
    table_page = next(n for n, text in enumerate(pages, start=1) if n > 2 and "貳、各具體策略執行成果" in text)
    for path, page, stem in ((draft_pdf, 1, "annual-national-cover"), (draft_pdf, table_page, "annual-national-table"),
                             (draft_pdf, 3, "annual-national-summary"), (agency_pdf[1], 2, "annual-agency-table")):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(path),
                        str(artifacts_dir / stem)], check=True)
        assert (artifacts_dir / f"{stem}.png").stat().st_size > 1000


def test_missed_targets_show_what_each_asked_for_as_the_plan_tables_do(draft_report):
    from reporting.templatetags.dashboard_extras import target_display

    html = NationalReportPdf(draft_report).html()
    missed_section = html.split('<table class="missed">', 1)[1].split("</table>", 1)[0]
    dated = [row for row in draft_report.missed if row.value and row.target is None and not row.value.grade and row.value.due_on]
    assert dated, "the seeded year has a missed milestone with a due date"
    for row in dated:  # a milestone's due date is its target, as on the dashboard and in the plan tables
        assert f'<td class="target">{target_display(row)}</td>' in missed_section, row.measure.reference
