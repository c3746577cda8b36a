"""The annual consolidated report (年度執行成果) and each agency's annual report as PDF.

The figures are the report selector's (reporting/selectors/annual_report.py), which
reads them through the dashboard's aggregation path, and are shown with the
dashboard's own filters (dashboard_extras): the PDF, the dashboard and the
spreadsheets can never disagree. This module only lays them out: a template under
templates/reporting/pdf/ with the print stylesheet inlined, turned into PDF by
WeasyPrint.

Every render in a process shares one WeasyPrint FontConfiguration (2,000 agency
reports are rendered in one batch). What a file costs, measured on the demo data:
layout is most of it; subsetting the two Noto Sans CJK faces (regular, bold) is
about 50 ms a file whatever its length; the first render in a process pays about
0.4 s more to load the fonts.
"""

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from measures.exporters import ExportFile
from measures.templatetags.plan_extras import roc_datetime

from ..assessment import HEADLINE_STATUSES
from ..models import Entry
from ..templatetags.dashboard_extras import STATUS_COLOURS, number
from .dashboard import uncounted_entry_text

PDF_CONTENT_TYPE = "application/pdf"
STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "annual-report-print.css"

# Shared by every render in the process: the font map keeps the faces Pango has loaded
# and WeasyPrint caches line metrics per style in it; a fresh one per file made the
# agency reports about 8% slower.
FONT_CONFIG = FontConfiguration()
# Pango font maps are not thread-safe; renders in a threaded server take turns (WeasyPrint
# holds the GIL for most of its work anyway, so little is lost).
RENDER_LOCK = threading.Lock()

# The report is self-contained (stylesheet inlined, chart as inline SVG): nothing may
# be fetched, so a stray URL in user text can neither reach the network nor read files.
URL_FETCHER = URLFetcher(allowed_protocols=("data",))


@functools.cache
def print_stylesheet() -> str:
    """Read once per process; inlined so the HTML alone renders the same PDF."""
    return STYLESHEET.read_text(encoding="utf-8")


def css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_footer_content() -> str:
    """「第 N 頁／共 M 頁」 as a CSS ``content`` value: the translated sentence with its
    placeholders turned into the page counters, so translators see one sentence."""
    sentence = _("第 %(page)s 頁／共 %(pages)s 頁") % {"page": "\x00page\x00", "pages": "\x00pages\x00"}
    parts = []
    for index, piece in enumerate(sentence.split("\x00")):
        if index % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)


# ------------------------------------------------------------------ the summary chart


@dataclass
class ChartSegment:
    status: str
    label: str
    count: int
    x: float
    width: float
    colour: str

    @property
    def text_x(self) -> float:
        return self.x + self.width / 2

    @property
    def labelled(self) -> bool:
        return self.width >= 14  # room for a two-digit count inside the bar


@dataclass
class ChartBar:
    label: str
    title: str
    y: float
    total: int
    segments: list[ChartSegment]
    end: float  # where the total is written


@dataclass
class LegendItem:
    status: str
    label: str
    colour: str
    x: float

    @property
    def text_x(self) -> float:
        return self.x + 13


@dataclass
class SummaryLine:
    """One strategy's counts beside the chart: the same numbers as its bar."""

    strategy: object
    counts: list[int]  # per headline status
    total: int  # the bar's length: headline statuses only
    others: int  # report-only and not-yet-due values, which the bar leaves out


def summary_lines(strategies) -> list[SummaryLine]:
    lines = []
    for section in strategies:
        counts = [section.summary.count(status) for status in HEADLINE_STATUSES]
        lines.append(SummaryLine(section.strategy, counts, sum(counts), section.summary.total - sum(counts)))
    return lines


@dataclass
class StatusChart:
    """Geometry of the stacked bars, in SVG user units; the template only draws it."""

    width: float
    height: float
    label_width: float
    bar_height: float
    bars: list[ChartBar]
    legend: list[LegendItem]
    legend_y: float


CHART_WIDTH, CHART_LABEL_WIDTH, CHART_ROW, CHART_BAR, CHART_TOTAL = 340, 70, 22, 14, 26


def status_chart(strategies) -> StatusChart:
    """Target values per strategy per headline status, as stacked horizontal bars
    scaled to the largest strategy."""
    plot = CHART_WIDTH - CHART_LABEL_WIDTH - CHART_TOTAL
    largest = max((sum(s.summary.count(status) for status in HEADLINE_STATUSES) for s in strategies), default=0) or 1
    bars = []
    for index, section in enumerate(strategies):
        x, segments = float(CHART_LABEL_WIDTH), []
        for status in HEADLINE_STATUSES:
            count = section.summary.count(status)
            if not count:
                continue
            width = plot * count / largest
            segments.append(ChartSegment(status.value, str(status.label), count, x, width, STATUS_COLOURS[status.value]))
            x += width
        bars.append(ChartBar(
            label=_("策略%(number)s") % {"number": section.strategy.short_label}, title=str(section.strategy),
            y=index * CHART_ROW, total=sum(segment.count for segment in segments), segments=segments, end=x + 4,
        ))
    legend_y = len(bars) * CHART_ROW + 8
    legend, x = [], float(CHART_LABEL_WIDTH)
    for status in HEADLINE_STATUSES:
        legend.append(LegendItem(status.value, str(status.label), STATUS_COLOURS[status.value], x))
        x += 13 + 9 * len(str(status.label)) + 12  # swatch, CJK label at 8.5 units a glyph, gap
    return StatusChart(
        width=CHART_WIDTH, height=legend_y + 16, label_width=CHART_LABEL_WIDTH, bar_height=CHART_BAR,
        bars=bars, legend=legend, legend_y=legend_y,
    )


# ------------------------------------------------------------------ agency rows


def entry_text(entry) -> str:
    """One period's entry as the agency's table shows it. Only approved entries count in
    the report; anything else is named by its state so the gap is visible."""
    if entry is None:
        return _("未填報")
    uncounted = uncounted_entry_text(entry)
    if uncounted:
        return uncounted
    if entry.quantity is not None:
        return number(entry.quantity)
    if entry.numerator is not None and entry.denominator:
        return f"{number(entry.numerator)}／{number(entry.denominator)}（{number(entry.numerator * 100 / entry.denominator, 1)}%）"
    if entry.milestone:
        return str(Entry.Milestone(entry.milestone).label)
    if entry.grade:
        return entry.grade
    return _("已填報")


@dataclass
class AgencyLine:
    row: object  # AgencyReportRow
    cells: list[tuple[str, str]]  # (period label, entry text) for the periods covered


def period_name(period) -> str:
    """「第1季」, 「3月」, 「上半年」: the year is on every page already, and the column is narrow."""
    return period.label.removeprefix(f"{period.year}年")


def agency_lines(report) -> list[AgencyLine]:
    last_month = report.meta.quarter * 3
    return [
        AgencyLine(row=row, cells=[(period_name(period), entry_text(entry)) for period, entry in row.line.cells if period.months[1] <= last_month])
        for row in report.rows
    ]


# ------------------------------------------------------------------ the exporters


class ReportPdf:
    """Base: ``html()`` is the whole document (stylesheet inlined), ``render()`` the file."""

    template_name = ""

    def __init__(self, report, identifier: str | None = None):
        self.report = report
        self.identifier = identifier or self.default_identifier()

    def default_identifier(self) -> str:
        raise NotImplementedError

    def context(self) -> dict:
        meta = self.report.meta
        return {
            "report": self.report,
            "meta": meta,
            "data_as_of": roc_datetime(meta.data_as_of),
            "print_css": print_stylesheet(),
            "footer_content": page_footer_content(),
            "status_colours": sorted(STATUS_COLOURS.items()),
        }

    def html(self) -> str:
        return render_to_string(self.template_name, self.context())

    def render(self) -> ExportFile:
        html = self.html()
        with RENDER_LOCK:
            content = HTML(string=html, url_fetcher=URL_FETCHER).write_pdf(font_config=FONT_CONFIG)
        return ExportFile(f"{self.identifier}.pdf", PDF_CONTENT_TYPE, content)


class NationalReportPdf(ReportPdf):
    """The consolidated report MOJ sends to the Executive Yuan."""

    template_name = "reporting/pdf/national.html"

    def default_identifier(self) -> str:
        return self.report.meta.identifier

    def context(self) -> dict:
        report = self.report
        return {
            **super().context(),
            "statuses": HEADLINE_STATUSES,
            "chart": status_chart(report.strategies),
            "summary_lines": summary_lines(report.strategies),
            "headline_total": sum(count for _status, count in report.headline),
            "other_total": sum(count for _status, count in report.other_counts),
            "rows_total": len(report.rows),
            "key_measures": report.key_measures,
            "missed": report.missed,
        }


class AgencyReportPdf(ReportPdf):
    """One agency's own annual report: everything it owes, period by period."""

    template_name = "reporting/pdf/agency.html"

    def default_identifier(self) -> str:
        return f"{self.report.meta.identifier}-agency-{self.report.agency.pk}"

    def context(self) -> dict:
        return {**super().context(), "lines": agency_lines(self.report), "agency_completeness": [self.report.completeness]}
