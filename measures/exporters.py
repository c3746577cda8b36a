"""Plan exports: the published table as XLSX and ODS, and the whole tree as JSON.

Every exporter has the same contract: ``render(plan) -> ExportFile``. The
spreadsheet layout mirrors the printed table — one row per line item, the
strategy, measure and agency cells merged over the rows they span.
"""

import json
from dataclasses import dataclass
from itertools import zip_longest

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anticorruption.spreadsheets import ODS_CONTENT_TYPE, XLSX_CONTENT_TYPE, Sheet, render_ods, render_xlsx

from . import selectors
from .lineage import lineage_continues
from .models import PlanVersion, TargetValue
from .numbers import chinese_numeral
from .target_values import plain_decimal

JSON_FORMAT = "anticorruption.plan/v1"
MACHINE_SHEET = "機讀資料"
MACHINE_MARK = "§"
MACHINE_CHUNK = 30000  # an XLSX cell holds at most 32,767 characters


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def value_items(measure, year: int | None = None) -> list[list[TargetValue]]:
    """A measure's values (of one year, if given) grouped by printed item: the parts of a split value stay together."""
    items: list[list[TargetValue]] = []
    for value in measure.values.all():
        if year is not None and value.year != year:
            continue
        if items and value.part and value.part > 1 and items[-1][0].text == value.text and items[-1][0].number == value.number:
            items[-1].append(value)
        else:
            items.append([value])
    return items


def numbered(number, text: str) -> str:
    return f"{number}. {text}" if number else text


def value_item_text(item: list[TargetValue]) -> str:
    first = item[0]
    return f"{first.heading}{numbered(first.number, first.text)}"


class PlanExporter:
    identifier = ""
    verbose_name = ""
    extension = ""
    content_type = ""

    def render(self, plan: PlanVersion) -> ExportFile:
        raise NotImplementedError

    def filename(self, plan: PlanVersion) -> str:
        return f"plan-{plan.code}.{self.extension}"


class PlanTableExporter(PlanExporter):
    """Base for the spreadsheet formats: builds the sheets once."""

    def table_columns(self, plan: PlanVersion, years: list[int]):
        columns = [(_("具體策略"), 24), (_("執行措施"), 40), (_("績效目標"), 40), (_("辦理機關"), 24)]
        if plan.has_values or years:
            columns.append((_("績效衡量指標"), 36))
        # Each published year has a column of its own: never two years' values in one column.
        columns += [(_("%(year)d年績效目標值") % {"year": year}, 40) for year in years]
        return columns

    def sheets(self, plan: PlanVersion) -> list[Sheet]:
        measures = list(selectors.plan_measures_full(plan=plan))
        years = sorted(selectors.plan_value_years(plan=plan))
        sheets = [self.plan_table(plan, measures, years)]
        sheets += [self.value_details(plan, measures, year) for year in years]
        sheets.append(self.machine_data(plan))
        return sheets

    @staticmethod
    def machine_data(plan) -> Sheet:
        """The whole tree (the JSON export) in the last sheet, so the file comes back in with
        everything the visible sheets do not show; the value sheets' cells win over it."""
        content = json.dumps(PlanJsonExporter().tree(plan), ensure_ascii=False)
        sheet = Sheet(title=MACHINE_SHEET, columns=[(_("序"), 6), (_("內容（本系統讀回用，請勿修改）"), 120)], landscape=False)
        for index in range(0, len(content), MACHINE_CHUNK):
            # The marker keeps a chunk from reading as a formula (and from being escaped as one).
            sheet.append([index // MACHINE_CHUNK + 1, MACHINE_MARK + content[index:index + MACHINE_CHUNK]])
        return sheet

    def plan_table(self, plan, measures, years) -> Sheet:
        sheet = Sheet(title=_("具體作為"), columns=self.table_columns(plan, years))
        width = len(sheet.columns)
        current_section, current_group, strategy_start, strategy = None, None, None, None

        def close_strategy(last_row):
            if strategy_start is not None and last_row > strategy_start:
                sheet.merges.append((strategy_start, 0, last_row, 0))

        for measure in measures:
            section = measure.strategy.section
            area = section.parent if section and section.parent_id else section
            group = section if section and section.parent_id else None
            if measure.strategy != strategy:
                close_strategy(len(sheet.rows) - 1)
                strategy_start = None
            if area is not None and area != current_section:
                row = sheet.append([f"{chinese_numeral(area.number)}、{area.title}"] + [""] * (width - 1))
                sheet.heading_rows.add(row)
                sheet.merges.append((row, 0, row, width - 1))
                current_section, current_group = area, None
            if group is not None and group != current_group:
                row = sheet.append([f"({chinese_numeral(group.number)}){group.title}"] + [""] * (width - 1))
                sheet.heading_rows.add(row)
                sheet.merges.append((row, 0, row, width - 1))
                current_group = group
            first_row = len(sheet.rows)
            columns = [
                [numbered(t.number, t.text) for t in measure.targets.all()],
            ]
            if plan.has_values or years:
                columns.append([numbered(i.number, i.text) for i in measure.indicators.all()])
                columns += [[value_item_text(item) for item in value_items(measure, year)] for year in years]
            lines = list(zip_longest(*columns, fillvalue="")) or [("",) * len(columns)]
            for index, line in enumerate(lines):
                strategy_cell = f"{measure.strategy.label}{measure.strategy.title}" if measure.strategy != strategy else ""
                row = [strategy_cell, f"{measure.printed_number} {measure.text}".strip() if index == 0 else "", line[0], measure.agencies_text if index == 0 else ""]
                row += list(line[1:])
                sheet.append(row)
                if strategy_start is None:
                    strategy_start, strategy = len(sheet.rows) - 1, measure.strategy
            last_row = len(sheet.rows) - 1
            if last_row > first_row:
                sheet.merges += [(first_row, 1, last_row, 1), (first_row, 3, last_row, 3)]
        close_strategy(len(sheet.rows) - 1)
        return sheet

    def value_details(self, plan, measures, year: int) -> Sheet:
        sheet = Sheet(
            title=_("%(year)d年目標值明細") % {"year": year},
            columns=[
                (_("年度"), 6), (_("具體策略"), 8), (_("執行措施"), 10), (_("項次"), 6), (_("分項"), 6), (_("適用機關"), 16), (_("類型"), 10),
                (_("目標值原文"), 50), (_("數值"), 14), (_("單位"), 8), (_("比較方式"), 8), (_("等級"), 6), (_("完成期限"), 12),
                (_("衡量指標"), 10), (_("機關分配"), 30), (_("備註"), 30),
            ],
            autofilter=True,
            number_formats={8: "#,##0.##"},
        )
        for measure in measures:
            for value in measure.values.all():
                if value.year != year:
                    continue
                sheet.append(
                    [
                        value.year,
                        measure.strategy.number,
                        measure.printed_number or str(measure.number),
                        value.number,
                        value.part,
                        value.agency.name if value.agency else "",
                        value.get_kind_display(),
                        value.display_text,
                        value.quantity,
                        value.unit,
                        value.get_comparator_display() if value.comparator else "",
                        value.grade,
                        value.due_on,
                        "、".join(str(i.number or i.position) for i in value.indicators.all()),
                        "、".join(f"{share.agency.name} {share.figure}" for share in value.shares.all()),
                        value.note,
                    ]
                )
        return sheet


class PlanXlsxExporter(PlanTableExporter):
    identifier = "xlsx"
    verbose_name = gettext_lazy("Excel 活頁簿（XLSX）")
    extension = "xlsx"
    content_type = XLSX_CONTENT_TYPE

    def render(self, plan):
        return ExportFile(self.filename(plan), self.content_type, render_xlsx(self.sheets(plan)))


class PlanOdsExporter(PlanTableExporter):
    identifier = "ods"
    verbose_name = gettext_lazy("ODF 試算表（ODS）")
    extension = "ods"
    content_type = ODS_CONTENT_TYPE

    def render(self, plan):
        return ExportFile(self.filename(plan), self.content_type, render_ods(self.sheets(plan)))


class PlanJsonExporter(PlanExporter):
    """The full tree; the format is documented in README ("Plan JSON format")."""

    identifier = "json"
    verbose_name = gettext_lazy("JSON（完整資料結構）")
    extension = "json"
    content_type = "application/json"

    def render(self, plan):
        content = json.dumps(self.tree(plan), ensure_ascii=False, indent=2, sort_keys=False)
        return ExportFile(self.filename(plan), self.content_type, content.encode("utf-8"))

    def tree(self, plan) -> dict:
        measures = list(selectors.plan_measures_full(plan=plan))
        continues = lineage_continues(plan)
        strategies = {}
        for measure in measures:
            strategy = measure.strategy
            if strategy.pk not in strategies:
                section = strategy.section
                strategies[strategy.pk] = {
                    "number": strategy.number,
                    "printed_number": strategy.printed_number,
                    "section": [section.parent.number, section.number] if section and section.parent_id else ([section.number] if section else []),
                    "title": strategy.title,
                    "measures": [],
                }
            strategies[strategy.pk]["measures"].append(self._with_lineage(self.measure(measure), measure, continues))
        return {
            "format": JSON_FORMAT,
            "exported_at": timezone.now().isoformat(timespec="seconds"),
            "plan": {
                "code": plan.code,
                "title": plan.title,
                "subtitle": plan.subtitle,
                "approved_on": plan.approved_on.isoformat() if plan.approved_on else None,
                "first_year": plan.first_year,
                "last_year": plan.last_year,
                "status": plan.status,
                "target_year": plan.target_year,
                # Extension: every year of values the version holds, and whether it is published.
                "years": [
                    {"year": ty.year, "state": ty.state, "source": ty.source, "published_at": ty.published_at.isoformat(timespec="seconds") if ty.published_at else None}
                    for ty in plan.target_years.order_by("year")
                ],
                "basis": plan.basis,
                "preamble": plan.preamble,
                "goals": [{"number": g.number, "title": g.title, "text": g.text} for g in plan.goals.all()],
                "provisions": plan.provisions,
                "sections": [
                    {"number": s.number, "title": s.title, "groups": [{"number": g.number, "title": g.title} for g in s.children.all()]}
                    for s in plan.sections.filter(parent=None).prefetch_related("children")
                ],
                "strategies": list(strategies.values()),
            },
        }

    @staticmethod
    def _with_lineage(item: dict, measure, continues: dict) -> dict:
        """Extension: what each measure and indicator continues in the version before."""
        if links := continues.get(("measure", measure.pk)):
            item["continues"] = links
        for indicator, row in zip(measure.indicators.all(), item["indicators"], strict=True):
            if links := continues.get(("indicator", indicator.pk)):
                row["continues"] = links
        return item

    @staticmethod
    def measure(measure) -> dict:
        return {
            "number": measure.number,
            "printed_number": measure.printed_number,
            "text": measure.text,
            "agencies_text": measure.agencies_text,
            "agencies": [
                {
                    "role": a.role,
                    "agency": a.agency.name,
                    "printed_name": a.printed_name,
                    "target": a.target.number if a.target else None,
                }
                for a in measure.assignments.all()
            ],
            "targets": [{"number": t.number, "text": t.text} for t in measure.targets.all()],
            "indicators": [
                {"number": i.number, "text": i.text, "frequency": i.frequency, "aggregation": i.aggregation} for i in measure.indicators.all()
            ],
            "values": [
                {
                    "year": v.year,
                    "number": v.number,
                    "part": v.part,
                    "heading": v.heading,
                    "agency": v.agency.name if v.agency else None,
                    "text": v.text,
                    "part_text": v.part_text,
                    "kind": v.kind,
                    "figure": v.figure,
                    "quantity": plain_decimal(v.quantity) if v.quantity is not None else None,
                    "unit": v.unit,
                    "comparator": v.comparator or None,
                    "grade": v.grade or None,
                    "due_on": v.due_on.isoformat() if v.due_on else None,
                    "indicators": [i.number or i.position for i in v.indicators.all()],
                    "breakdown": [{"agency": s.agency.name, "figure": s.figure, "quantity": plain_decimal(s.quantity)} for s in v.shares.all()],
                    "note": v.note,
                }
                for v in measure.values.all()
            ],
        }


EXPORTERS = {exporter.identifier: exporter for exporter in (PlanXlsxExporter(), PlanOdsExporter(), PlanJsonExporter())}
