"""Every dashboard table as XLSX, ODS and CSV: the same rows the page shows, numbers as numbers."""

from django.utils.translation import gettext as _

from anticorruption.spreadsheets import Sheet

from ..selectors.figures import counted_states
from . import TableExport

NUMBER = "#,##0.####"
PERCENT = "0.0"


def figure_number(figure):
    return figure.value if figure is not None else None


def figure_text(figure) -> str:
    """What a non-numeric figure says: a milestone, a grade, or that something was reported."""
    if figure is None or not figure.reported:
        return ""
    if figure.milestone:
        return figure.milestone_label
    if figure.grade:
        return figure.grade
    if figure.value is None:
        return _("已提報 %(n)d 筆") % {"n": figure.entries}
    return ""


def round_percent(value):
    return round(value, 1) if value is not None else None


class ValueTableExport(TableExport):
    """The dashboard's table of measures, indicators and target values."""

    def __init__(self, board, identifier="dashboard"):
        self.board = board
        self.identifier = identifier

    def sheets(self):
        query = self.board.query
        sheet = Sheet(
            title=_("%(year)d年第%(quarter)d季達成情形") % {"year": query.year, "quarter": query.quarter},
            columns=[
                (_("具體策略"), 18), (_("執行措施"), 10), (_("院列管"), 8), (_("主辦機關"), 18), (_("績效衡量指標"), 36),
                (_("績效目標值"), 36), (_("目標數值"), 12), (_("單位"), 8), (_("年度累計值"), 14), (_("累計值說明"), 14),
                (_("分子合計"), 12), (_("分母合計"), 12), (_("達成率（%）"), 10), (_("狀態"), 10), (_("填報機關數"), 10),
            ],
            autofilter=True,
            number_formats={6: NUMBER, 8: NUMBER, 10: NUMBER, 11: NUMBER, 12: PERCENT, 14: "0"},
        )
        for row in self.board.shown_rows:
            figure = row.figure
            sheet.append([
                row.strategy.short_label, row.measure.reference, _("是") if row.is_key else "", "、".join(row.leads),
                row.indicator.text if row.indicator else "", row.value.display_text if row.value else "",
                row.target, row.value.unit if row.value else "", figure_number(figure), figure_text(figure),
                figure.numerator if figure and figure.kind == "ratio" else None,
                figure.denominator if figure and figure.kind == "ratio" else None,
                round_percent(row.assessment.percent), str(row.status_label), figure.agencies if figure else 0,
            ])
        return [sheet]


class StrategySummaryExport(TableExport):
    def __init__(self, board, statuses, identifier="dashboard-strategies"):
        self.board, self.statuses, self.identifier = board, statuses, identifier

    def sheets(self):
        sheet = Sheet(
            title=_("各具體策略達成情形"),
            columns=[(_("具體策略"), 40), *[(str(status.label), 10) for status in self.statuses], (_("合計"), 10)],
            number_formats={i: "0" for i in range(1, len(self.statuses) + 2)},
        )
        for summary in self.board.strategies:
            sheet.append([str(summary.strategy), *[summary.count(status) for status in self.statuses], summary.total])
        return [sheet]


class IndicatorAgenciesExport(TableExport):
    """One indicator: each agency's entry per period and its year-to-date figure."""

    def __init__(self, indicator, periods, rows, identifier):
        self.indicator, self.periods, self.rows, self.identifier = indicator, periods, rows, identifier

    def sheets(self):
        sheet = Sheet(
            title=_("各機關填報情形"),
            columns=[(_("機關"), 30), *[(p.label, 14) for p in self.periods], (_("年度累計值"), 14), (_("累計值說明"), 14)],
            autofilter=True,
            number_formats={i: NUMBER for i in range(1, len(self.periods) + 2)},
        )
        for row in self.rows:
            cells = [entry_number(entry) if entry else None for _period, entry in row.cells]
            sheet.append([row.agency.name, *cells, figure_number(row.figure), figure_text(row.figure)])
        return [sheet]


def uncounted_entry_text(entry) -> str | None:
    """An entry the figures do not count yet (not approved), named by where it stands so
    the gap is visible in a report; None for a counted entry."""
    if entry.state in counted_states(False):
        return None
    return _("%(state)s（未計入）") % {"state": entry.get_state_display()}


def entry_number(entry):
    if entry.quantity is not None:
        return entry.quantity
    if entry.numerator is not None and entry.denominator:
        return round(entry.numerator * 100 / entry.denominator, 2)
    return entry.get_milestone_display() if entry.milestone else (entry.grade or entry.get_state_display())


class AgencyObligationsExport(TableExport):
    def __init__(self, agency, rows, identifier):
        self.agency, self.rows, self.identifier = agency, rows, identifier

    def sheets(self):
        sheet = Sheet(
            title=_("填報義務與辦理情形"),
            columns=[(_("執行措施"), 10), (_("績效衡量指標"), 40), (_("角色"), 8), (_("頻率"), 8), (_("各期狀態"), 40),
                     (_("年度累計值"), 14), (_("累計值說明"), 14)],
            autofilter=True, number_formats={5: NUMBER},
        )
        for row in self.rows:
            states = "；".join(f"{period.label}：{entry.get_state_display() if entry else _('尚未填寫')}" for period, entry in row.cells)
            indicator = row.obligation.indicator
            sheet.append([indicator.measure.reference, indicator.text, row.obligation.get_role_display(), indicator.get_frequency_display(),
                          states, figure_number(row.figure), figure_text(row.figure)])
        return [sheet]


class CompletenessExport(TableExport):
    def __init__(self, rows, identifier):
        self.rows, self.identifier = rows, identifier

    def sheets(self):
        sheet = Sheet(
            title=_("填報完成情形"),
            columns=[(_("機關"), 30), (_("應填報項數"), 10), (_("已送出"), 10), (_("準時送出"), 10), (_("逾期送出"), 10),
                     (_("尚未送出"), 10), (_("送出率（%）"), 10), (_("準時率（%）"), 10), (_("完成情形"), 10), (_("逾期"), 8)],
            autofilter=True, number_formats={1: "0", 2: "0", 3: "0", 4: "0", 5: "0", 6: PERCENT, 7: PERCENT},
        )
        for row in self.rows:
            sheet.append([row.agency.name, row.due, row.submitted, row.on_time, row.late_submitted, row.missing,
                          row.reporting_rate, row.on_time_rate, str(row.completion_label), _("是") if row.is_late else ""])
        return [sheet]
