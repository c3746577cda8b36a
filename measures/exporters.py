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
from .models import AgencyAssignment, Indicator, Measure, PerformanceTarget, PlanVersion, TargetValue, TargetValueIndicator, TargetValueShare
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
                    {"year": year, "state": state, "source": source, "published_at": published_at.isoformat(timespec="seconds") if published_at else None}
                    for year, state, source, published_at in plan.target_years.order_by("year").values_list("year", "state", "source", "published_at")
                ],
                "basis": plan.basis,
                "preamble": plan.preamble,
                "goals": [{"number": number, "title": title, "text": text} for number, title, text in plan.goals.values_list("number", "title", "text")],
                "provisions": plan.provisions,
                "sections": [
                    {"number": s.number, "title": s.title, "groups": [{"number": g.number, "title": g.title} for g in s.children.all()]}
                    for s in plan.sections.filter(parent=None).prefetch_related("children")
                ],
                "strategies": self.strategies(plan),
            },
        }

    @staticmethod
    def strategies(plan) -> list[dict]:
        """The strategies with their measures and all that hangs off them: one query of plain
        rows per kind (no model instances), in the order the models sort by."""
        in_plan = {"measure__strategy__plan": plan}
        of_values = {"value__measure__strategy__plan": plan}
        targets = _grouped(PerformanceTarget.objects.filter(**in_plan).order_by("measure_id", "position").values_list("measure_id", "number", "text"))
        indicators = _grouped(
            Indicator.objects.filter(**in_plan).order_by("measure_id", "position").values_list("measure_id", "id", "number", "text", "frequency", "aggregation")
        )
        continues = lineage_continues(plan)  # extension: what each item continues in an earlier version
        assignments = _grouped(
            AgencyAssignment.objects.filter(**in_plan).order_by("measure_id", "position").values_list("measure_id", "role", "agency__name", "printed_name", "target__number")
        )
        shares = _grouped(TargetValueShare.objects.filter(**of_values).order_by("value_id", "position").values_list("value_id", "agency__name", "figure", "quantity"))
        links = _grouped(
            TargetValueIndicator.objects.filter(**of_values).order_by("value_id", "indicator__measure", "indicator__position").values_list("value_id", "indicator__number", "indicator__position")
        )
        values = _grouped(
            TargetValue.objects.filter(**in_plan).order_by("measure_id", "year", "position").values_list(
                "measure_id", "id", "year", "number", "part", "heading", "agency__name", "text", "part_text", "kind", "figure", "quantity", "unit",
                "comparator", "grade", "due_on", "note",
            )
        )
        measures = Measure.objects.filter(strategy__plan=plan).order_by("strategy__position", "number").values_list(
            "id", "number", "printed_number", "text", "agencies_text",
            "strategy_id", "strategy__number", "strategy__printed_number", "strategy__title", "strategy__section__number", "strategy__section__parent__number",
        )
        strategies = {}
        for pk, number, printed_number, text, agencies_text, strategy_id, *strategy in measures:
            if strategy_id not in strategies:
                strategy_number, strategy_printed, title, section, area = strategy
                strategies[strategy_id] = {
                    "number": strategy_number,
                    "printed_number": strategy_printed,
                    "section": [area, section] if area is not None else ([section] if section is not None else []),
                    "title": title,
                    "measures": [],
                }
            measure = {
                "number": number,
                "printed_number": printed_number,
                "text": text,
                "agencies_text": agencies_text,
                "agencies": [
                    {"role": role, "agency": agency, "printed_name": printed_name, "target": target}
                    for role, agency, printed_name, target in assignments.get(pk, ())
                ],
                "targets": [{"number": t_number, "text": t_text} for t_number, t_text in targets.get(pk, ())],
                "indicators": [
                    _with_lineage({"number": i_number, "text": i_text, "frequency": frequency, "aggregation": aggregation}, continues.get(("indicator", i_pk)))
                    for i_pk, i_number, i_text, frequency, aggregation in indicators.get(pk, ())
                ],
                "values": [_value(row, links, shares) for row in values.get(pk, ())],
            }
            strategies[strategy_id]["measures"].append(_with_lineage(measure, continues.get(("measure", pk))))
        return list(strategies.values())


def _with_lineage(item: dict, links: list[dict] | None) -> dict:
    if links:
        item["continues"] = links
    return item


def _grouped(rows) -> dict:
    """Rows whose first column is a parent's key, as {key: [the other columns, …]}, in order."""
    groups = {}
    for key, *rest in rows:
        groups.setdefault(key, []).append(rest)
    return groups


def _value(row, links, shares) -> dict:
    pk, year, number, part, heading, agency, text, part_text, kind, figure, quantity, unit, comparator, grade, due_on, note = row
    return {
        "year": year,
        "number": number,
        "part": part,
        "heading": heading,
        "agency": agency,
        "text": text,
        "part_text": part_text,
        "kind": kind,
        "figure": figure,
        "quantity": plain_decimal(quantity) if quantity is not None else None,
        "unit": unit,
        "comparator": comparator or None,
        "grade": grade or None,
        "due_on": due_on.isoformat() if due_on else None,
        "indicators": [i_number or position for i_number, position in links.get(pk, ())],
        "breakdown": [{"agency": s_agency, "figure": s_figure, "quantity": plain_decimal(s_quantity)} for s_agency, s_figure, s_quantity in shares.get(pk, ())],
        "note": note,
    }

EXPORTERS = {exporter.identifier: exporter for exporter in (PlanXlsxExporter(), PlanOdsExporter(), PlanJsonExporter())}
