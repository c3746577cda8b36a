"""The annual consolidated report (年度執行成果) and each agency's annual report as XLSX and ODS.

Every figure, percentage and status comes from reporting.selectors.annual_report, which
reads them from the dashboard selector: these classes only lay them out as sheets, so the
workbooks, the dashboard and the PDF can never disagree.
"""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from anticorruption.spreadsheets import Sheet, cell_value
from measures.templatetags.plan_extras import roc_datetime

from . import TableExport
from .dashboard import NUMBER, PERCENT, entry_number, figure_number, figure_text, round_percent, uncounted_entry_text

COUNT = "0"


def _is_ratio(figure) -> bool:
    return figure is not None and figure.kind == "ratio"


def _strategy_text(strategy) -> str:
    return f"{strategy.label}{strategy.title}"


def _statements(statements) -> str:
    return "\n".join(f"{statement.agency}：{statement.text}" for statement in statements)


def _title(meta, subject: str = "") -> str:
    title = f"{subject}　{meta.title}" if subject else meta.title
    return _("%(title)s（草稿）") % {"title": title} if meta.draft else title


def _period_line(meta) -> str:
    return _("報告期間：%(period)s") % {"period": meta.period_label}


def _as_of_line(meta) -> str:
    return _("資料截止時間：%(when)s（僅計入法務部廉政署核定之填報資料）") % {
        "when": roc_datetime(meta.data_as_of),
    }


def _draft_lines(meta) -> list[str]:
    if meta.cutoff:
        return [_("本報告為正式版，以%(when)s（臺北時間）為資料截止點，由%(who)s決定；截止時尚未核定的填報資料不計入，列於「截止時未核定」工作表。截止理由：%(reason)s") % {
            "when": roc_datetime(meta.cutoff.decided_at), "who": meta.cutoff.decided_by, "reason": meta.cutoff.reason,
        }]
    if not meta.draft:
        return []
    return [_("【草稿】本報告尚非正式版本，原因如下："), *(f"・{reason}" for reason in meta.draft_reasons)]


def _sheet_title_lines(meta, heading: str, agency_name: str = "") -> list[str]:
    """Each sheet prints on its own: the report, the period, and what the table is."""
    draft = _draft_lines(meta)[:1]  # the reasons are on the summary sheet
    return [_title(meta, agency_name), _period_line(meta), *draft, heading]


def _completeness_sheet(meta, rows, total=None, agency_name: str = "") -> Sheet:
    title = _("填報完成情形")
    sheet = Sheet(
        title=title,
        columns=[(_("機關"), 30), (_("應填報項數"), 10), (_("已送出"), 10), (_("準時送出"), 10), (_("逾期送出"), 10),
                 (_("尚未送出"), 10), (_("送出率（%）"), 10), (_("準時率（%）"), 10), (_("完成情形"), 10), (_("逾期"), 8)],
        autofilter=True, number_formats={1: COUNT, 2: COUNT, 3: COUNT, 4: COUNT, 5: COUNT, 6: PERCENT, 7: PERCENT},
        title_lines=_sheet_title_lines(meta, _("各機關填報完成情形（年度累計至報告期間止）"), agency_name),
    )

    def line(name, counts):
        return [name, counts.due, counts.submitted, counts.on_time, counts.late_submitted, counts.missing,
                counts.reporting_rate, counts.on_time_rate, str(counts.completion_label), _("是") if counts.is_late else ""]

    for counts in rows:
        sheet.append(line(counts.agency.name if counts.agency else "", counts))
    if total is not None:
        sheet.heading_rows.add(sheet.append(line(_("合計"), total)))
    return sheet


# ------------------------------------------------------------------ national


class NationalReportWorkbook(TableExport):
    """The consolidated report as the plan's table, with its summary, key items, missed
    targets, every agency's detail and who has reported."""

    def __init__(self, report, details):
        self.report, self.details = report, details
        self.identifier = report.meta.identifier
        self._sheets = None

    def sheets(self) -> list[Sheet]:
        # Built once: the job renders the same sheets as XLSX and then as ODS.
        if self._sheets is None:
            self._sheets = self._build_sheets()
        return self._sheets

    def _build_sheets(self) -> list[Sheet]:
        report = self.report
        key_sections = [
            (section.strategy, [measure for measure in section.measures if measure.is_key]) for section in report.strategies
        ]
        return [
            self.summary_sheet(),
            self.results_sheet(_("執行成果"), _("各執行措施績效目標達成情形"), [(s.strategy, s.measures) for s in report.strategies]),
            self.results_sheet(_("院列管"), _("行政院列管項目達成情形"), [(strategy, measures) for strategy, measures in key_sections if measures]),
            self.missed_sheet(),
            self.details_sheet(),
            _completeness_sheet(report.meta, report.completeness, report.completeness_total),
            *([self.left_out_sheet()] if report.meta.cutoff else []),
        ]

    def left_out_sheet(self) -> Sheet:
        """With a cut-off: the entries not approved at that moment, left out of the figures."""
        cutoff = self.report.meta.cutoff
        sheet = Sheet(
            title=_("截止時未核定"),
            columns=[(_("機關"), 24), (_("執行措施"), 10), (_("績效衡量指標"), 50), (_("填報期間"), 14), (_("狀態"), 16)],
            autofilter=True,
            title_lines=_sheet_title_lines(self.report.meta, _("截止時尚未核定之填報資料（未計入本報告數值）；截止理由：%(reason)s") % {"reason": cutoff.reason}),
        )
        for row in self.report.left_out:
            sheet.append([row.agency, row.reference, row.indicator, row.period, row.state])
        if not sheet.rows:
            sheet.append([_("（無）")])
        return sheet

    def summary_sheet(self) -> Sheet:
        report, meta = self.report, self.report.meta
        statuses = [*report.statuses, *(status for status, _count in report.other_counts)]
        sheet = Sheet(
            title=_("摘要"),
            columns=[(_("具體策略"), 48), *[(str(status.label), 10) for status in statuses], (_("合計"), 10)],
            number_formats={index: COUNT for index in range(1, len(statuses) + 2)},
            title_lines=[
                _title(meta), _period_line(meta),
                _("發布機關：%(issuer)s") % {"issuer": meta.issuer}, _("彙編機關：%(compiler)s") % {"compiler": meta.compiler},
                _as_of_line(meta), *_draft_lines(meta),
                _("各具體策略績效目標值達成情形（項）"),
            ],
        )
        for section in report.strategies:
            summary = section.summary
            sheet.append([_strategy_text(section.strategy), *[summary.count(status) for status in statuses], summary.total])
        totals = [sum(section.summary.count(status) for section in report.strategies) for status in statuses]
        sheet.heading_rows.add(sheet.append([_("合計"), *totals, len(report.rows)]))
        return sheet

    def results_sheet(self, title: str, heading: str, strategies) -> Sheet:
        """The plan's table with the year's results: strategy and measure cells span their rows."""
        sheet = Sheet(
            title=title,
            columns=[
                (_("具體策略"), 22), (_("執行措施編號"), 8), (_("執行措施"), 34), (_("主辦機關"), 16), (_("院列管"), 6),
                (_("績效衡量指標"), 30), (_("績效目標值"), 30), (_("目標數值"), 12), (_("達成值"), 12), (_("單位"), 8),
                (_("達成說明"), 12), (_("達成率（%）"), 10), (_("達成狀態"), 10), (_("執行情形"), 40), (_("上年度同期達成值"), 12),
            ],
            autofilter=True, number_formats={7: NUMBER, 8: NUMBER, 11: PERCENT, 14: NUMBER},
            title_lines=_sheet_title_lines(self.report.meta, heading),
        )
        for strategy, measures in strategies:
            strategy_first = len(sheet.rows)
            for measure_section in measures:
                measure, measure_first = measure_section.measure, len(sheet.rows)
                for row in measure_section.rows:
                    first_of_measure = len(sheet.rows) == measure_first
                    index = sheet.append([
                        _strategy_text(strategy) if len(sheet.rows) == strategy_first else None,
                        measure.reference if first_of_measure else None,
                        measure.text if first_of_measure else None,
                        "、".join(measure_section.leads) if first_of_measure else None,
                        (_("是") if measure_section.is_key else "") if first_of_measure else None,
                        *_value_cells(row),
                        _statements(row.narratives),
                        figure_number(row.previous_figure),
                    ])
                    if _is_ratio(row.figure):
                        sheet.cell_formats[(index, 8)] = PERCENT
                    if _is_ratio(row.previous_figure):
                        sheet.cell_formats[(index, 14)] = PERCENT
                last = len(sheet.rows) - 1
                if last > measure_first:
                    sheet.merges += [(measure_first, column, last, column) for column in (1, 2, 3, 4)]
            if len(sheet.rows) - 1 > strategy_first:
                sheet.merges.append((strategy_first, 0, len(sheet.rows) - 1, 0))
        if not sheet.rows:
            sheet.append([_("（本期無資料）")])
        return sheet

    def missed_sheet(self) -> Sheet:
        """Targets behind or not reported, one row per agency's reason."""
        title = _("未達成項目")
        sheet = Sheet(
            title=title,
            columns=[
                (_("具體策略"), 8), (_("執行措施"), 10), (_("績效衡量指標"), 30), (_("績效目標值"), 30), (_("目標數值"), 12),
                (_("達成值"), 12), (_("單位"), 8), (_("達成說明"), 12), (_("達成率（%）"), 10), (_("達成狀態"), 10),
                (_("機關"), 20), (_("未達成原因及策進作為"), 50),
            ],
            autofilter=True, number_formats={4: NUMBER, 5: NUMBER, 8: PERCENT},
            title_lines=_sheet_title_lines(self.report.meta, _("落後或未填報之績效目標值及各機關未達成原因")),
        )
        for row in self.report.missed:
            first = len(sheet.rows)
            target = [row.strategy.short_label, row.measure.reference, *_value_cells(row)]
            statements = row.shortfalls or [None]
            for number, statement in enumerate(statements):
                cells = target if number == 0 else [None] * len(target)
                index = sheet.append([*cells, statement.agency if statement else "", statement.text if statement else _("（未提出說明）")])
                if number == 0 and _is_ratio(row.figure):
                    sheet.cell_formats[(index, 5)] = PERCENT
            last = len(sheet.rows) - 1
            if last > first:
                sheet.merges += [(first, column, last, column) for column in range(len(target))]
        if not sheet.rows:
            sheet.append([_("（本期無未達成項目）")])
        return sheet

    def details_sheet(self) -> Sheet:
        """Every agency's own year-to-date figure on each of its obligations."""
        title = _("各機關明細")
        sheet = Sheet(
            title=title,
            columns=[
                (_("機關"), 24), (_("具體策略"), 8), (_("執行措施"), 10), (_("績效衡量指標"), 40), (_("角色"), 8),
                (_("年度累計值"), 12), (_("累計值說明"), 12), (_("分子合計"), 12), (_("分母合計"), 12), (_("核定筆數"), 8),
            ],
            autofilter=True, number_formats={5: NUMBER, 7: NUMBER, 8: NUMBER, 9: COUNT},
            title_lines=_sheet_title_lines(self.report.meta, _("各機關各項績效衡量指標年度累計值（比率為百分比）")),
        )
        role_labels, rows, formats = {}, sheet.rows, sheet.cell_formats
        for detail in self.details:  # the national detail is ~30,000 rows: keep this loop lean
            obligation, figure = detail.obligation, detail.figure
            indicator = obligation.indicator
            if obligation.role not in role_labels:
                role_labels[obligation.role] = obligation.get_role_display()
            ratio = _is_ratio(figure)
            if ratio:
                formats[(len(rows), 5)] = PERCENT
            rows.append([
                detail.agency.name, indicator.measure.strategy.short_label, indicator.measure.reference, indicator.text,
                role_labels[obligation.role], figure_number(figure), figure_text(figure),
                figure.numerator if ratio else None, figure.denominator if ratio else None, figure.entries if figure else 0,
            ])
        return sheet


def _value_cells(row) -> list:
    """Indicator, target value, target, figure, unit, figure text, percentage, status."""
    value = row.value
    return [
        row.indicator.text if row.indicator else "", value.display_text if value else "", row.target,
        figure_number(row.figure), value.unit if value else "", figure_text(row.figure),
        round_percent(row.assessment.percent), str(row.assessment.status.label),
    ]


# ------------------------------------------------------------------ per agency

FREQUENCY_ORDER = {"quarterly": 0, "monthly": 1, "half_yearly": 2, "yearly": 3}


class AgencyReportWorkbook(TableExport):
    """One agency's annual report: each obligation's entries per period and its year-to-date
    figure, its narratives and reasons for shortfalls, and whether it reported on time."""

    def __init__(self, report):
        self.report = report
        self.identifier = f"{report.meta.identifier}-agency-{report.agency.pk}"

    def periods(self) -> list:
        """The periods covered so far, in the order the columns show them."""
        last_month = self.report.meta.quarter * 3
        periods = {period.pk: period for row in self.report.rows for period, _entry in row.line.cells if period.months[1] <= last_month}
        return sorted(periods.values(), key=lambda p: (FREQUENCY_ORDER.get(p.frequency, 9), p.number))

    def sheets(self) -> list[Sheet]:
        report = self.report
        return [self.results_sheet(), _completeness_sheet(report.meta, [report.completeness], agency_name=report.agency.name)]

    def results_sheet(self) -> Sheet:
        report, meta = self.report, self.report.meta
        periods = self.periods()
        first_period = 7
        ytd = first_period + len(periods)
        title = _("填報成果")
        sheet = Sheet(
            title=title,
            columns=[
                (_("具體策略"), 8), (_("執行措施"), 10), (_("績效衡量指標"), 34), (_("角色"), 8), (_("填報頻率"), 8),
                (_("方案績效目標值"), 30), (_("方案目標數值"), 12), *[(period.label, 12) for period in periods],
                (_("年度累計值"), 12), (_("累計值說明"), 12), (_("分子合計"), 12), (_("分母合計"), 12),
                (_("執行情形"), 40), (_("未達成原因及策進作為"), 40),
            ],
            autofilter=True,
            number_formats={6: NUMBER, **{first_period + i: NUMBER for i in range(len(periods))}, ytd: NUMBER, ytd + 2: NUMBER, ytd + 3: NUMBER},
            title_lines=[
                _title(meta, report.agency.name), _period_line(meta), _as_of_line(meta), *_draft_lines(meta),
                _("各項填報義務之各期數值與年度累計值（各期僅列核定之數值，比率為百分比）"),
            ],
        )
        column_of = {period.pk: first_period + i for i, period in enumerate(periods)}
        for row in report.rows:
            obligation, indicator, figure = row.obligation, row.indicator, row.figure
            quantities = [value.quantity for value in row.values if value.quantity is not None]
            cells = [None] * len(periods)
            for period, entry in row.line.cells:
                if period.pk in column_of and entry is not None:
                    cells[column_of[period.pk] - first_period] = _entry_cell(entry)
            ratio = _is_ratio(figure) or indicator.entry_kind(value_kinds=[value.kind for value in row.values]) == "ratio"
            index = sheet.append([
                indicator.measure.strategy.short_label, indicator.measure.reference, indicator.text, obligation.get_role_display(),
                indicator.get_frequency_display(), "\n".join(value.display_text for value in row.values),
                quantities[0] if len(quantities) == 1 else None, *cells,
                figure_number(figure), figure_text(figure),
                figure.numerator if _is_ratio(figure) else None, figure.denominator if _is_ratio(figure) else None,
                "\n".join(row.narratives), "\n".join(row.shortfalls),
            ])
            if ratio:
                for column in [*column_of.values(), ytd]:
                    sheet.cell_formats[(index, column)] = PERCENT
        return sheet


def _entry_cell(entry):
    """A period's entry: its number (a ratio as a percentage), milestone or grade once approved;
    otherwise only where it stands, since it does not count yet."""
    return uncounted_entry_text(entry) or entry_number(entry)


# ------------------------------------------------------------------ benchmark baseline


def bare_openpyxl_xlsx(sheets: list[Sheet]) -> bytes:
    """The same cell values (title block, header, rows, merged ranges) written to a plain
    openpyxl workbook without any style: the baseline our XLSX time is compared with."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        for line in sheet.title_lines:
            worksheet.append([cell_value(line)])
        worksheet.append([header for header, _width in sheet.columns])
        for row in sheet.rows:
            worksheet.append([cell_value(value) for value in row])
        offset = sheet.header_row + 1
        for first_row, first_col, last_row, last_col in sheet.merges:
            worksheet.merge_cells(start_row=first_row + offset, start_column=first_col + 1, end_row=last_row + offset, end_column=last_col + 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
