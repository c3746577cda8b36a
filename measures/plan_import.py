"""Taking a plan file back in: any file export_plan writes (JSON, XLSX, ODS).

A workbook carries the whole tree in its machine-readable sheet; the cells of its
per-year value sheets are applied over it, so what people edit there is what comes in,
and a bad cell is named by sheet and address.

The file is checked field by field (errors name their JSON path), turned into the
fixtures' shape and loaded through the same PlanFile as the fixtures, so every rule
is written once. An import is first a preview: it is applied inside a transaction,
the stored plan is exported before and after, and the transaction is rolled back;
the difference is what applying would change. Applying does the same and commits:
all of it or nothing.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from anticorruption.datafiles import DataFileError, LoadStats

from .exporters import JSON_FORMAT, PlanJsonExporter
from .lineage import LineageError, LineageProposal, lineage_propose, lineage_write, previous_version, stored_choices, tree_items
from .loaders import PlanFile
from .models import PlanVersion, TargetValue, TargetYear
from .signals import values_published


class PlanImportError(Exception):
    """The file cannot be imported; ``problems`` are (where, what) pairs in zh-Hant."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("；".join(f"{where}：{what}" if where else what for where, what in problems))


class UnmappedFiguresError(PlanImportError):
    """Indicators that already have figures would be dropped: refused, with the matching
    so that AAC can map them in the preview."""

    def __init__(self, problems, proposal: LineageProposal):
        self.proposal = proposal
        super().__init__(problems)


# ------------------------------------------------------------------ reading the JSON


def read_json(content: bytes) -> dict:
    try:
        tree = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PlanImportError([("", _("檔案不是 UTF-8 編碼的 JSON。"))]) from None
    except json.JSONDecodeError as error:
        raise PlanImportError([("", _("JSON 格式錯誤（第 %(line)d 行第 %(column)d 字）：%(problem)s") % {"line": error.lineno, "column": error.colno, "problem": error.msg})]) from None
    if not isinstance(tree, dict) or tree.get("format") != JSON_FORMAT or not isinstance(tree.get("plan"), dict):
        raise PlanImportError([("format", _("不是本系統匯出的方案檔（format 應為「%(format)s」）。") % {"format": JSON_FORMAT})])
    return tree


def check_values(plan: dict) -> list[tuple[str, str]]:
    """The bad inputs people make in a value, each named by its JSON path."""
    problems = []
    kinds = set(TargetValue.Kind.values)
    seen = {}
    for s, strategy in enumerate(plan.get("strategies") or []):
        for m, measure in enumerate(strategy.get("measures") or []):
            for v, value in enumerate(measure.get("values") or []):
                path = f"plan.strategies[{s}].measures[{m}].values[{v}]"
                kind = value.get("kind")
                if kind not in kinds:
                    problems.append((f"{path}.kind", _("類型「%(kind)s」不存在，應為 %(choices)s 之一。") % {"kind": kind, "choices": "、".join(sorted(kinds))}))
                    continue
                quantity = _decimal(value.get("quantity"))
                if kind in TargetValue.NUMERIC_KINDS:
                    if quantity is None:
                        problems.append((f"{path}.quantity", _("「%(value)s」不是數字；%(kind)s類目標值須有數值（例如 \"300\"）。") % {"value": value.get("quantity"), "kind": TargetValue.Kind(kind).label}))
                    elif quantity < 0:
                        problems.append((f"{path}.quantity", _("數值不可為負數（%(value)s）。") % {"value": value.get("quantity")}))
                    elif kind == TargetValue.Kind.RATIO and value.get("unit") == "%" and quantity > 100:
                        problems.append((f"{path}.quantity", _("比率不可超過 100%%（%(value)s）。") % {"value": value.get("quantity")}))
                if kind == TargetValue.Kind.MILESTONE and not value.get("due_on") and _is_new_year(value, plan):
                    problems.append((f"{path}.due_on", _("里程碑類目標值須有完成期限（due_on）。")))
                key = (value.get("year"), value.get("number"), value.get("part"), value.get("agency"))
                if key in seen:
                    problems.append((path, _("與 %(other)s 重複（同一年度、項次、分項與適用機關）。") % {"other": seen[key]}))
                seen.setdefault(key, path)
            seen = {}
    return problems


def _is_new_year(value: dict, plan: dict) -> bool:
    """The plan document prints some milestones without a date; a year set later must give one."""
    return value.get("year") != plan.get("target_year")


def _decimal(raw) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def data_from_tree(plan: dict) -> dict:
    """The export's tree in the fixtures' shape (fixtures/README.md)."""
    keys = ("code", "title", "subtitle", "approved_on", "first_year", "last_year", "status", "target_year", "basis", "preamble", "goals", "provisions", "sections")
    data = {key: plan.get(key) for key in keys if key in plan}
    data["strategies"] = [
        {
            "number": strategy.get("number"),
            "printed_number": strategy.get("printed_number", ""),
            "section": strategy.get("section") or None,
            "title": strategy.get("title"),
            "measures": [_measure(measure) for measure in strategy.get("measures") or []],
        }
        for strategy in plan.get("strategies") or []
    ]
    return data


def _measure(measure: dict) -> dict:
    # What an indicator continues is lineage (measures/lineage.py), not the plan's text.
    indicators = [{key: value for key, value in indicator.items() if key != "continues"} for indicator in measure.get("indicators") or []]
    return {
        "number": measure.get("number"),
        "printed_number": measure.get("printed_number", ""),
        "text": measure.get("text"),
        "agencies_text": measure.get("agencies_text", ""),
        "agencies": _assignment_groups(measure.get("agencies") or []),
        "targets": measure.get("targets") or [],
        "indicators": indicators,
        "values": _value_items(measure.get("values") or [], indicators),
    }


def _assignment_groups(assignments: list[dict]) -> list[dict]:
    """One group per printed name and role, with the performance targets it covers."""
    groups: dict[tuple, dict] = {}
    for assignment in assignments:
        key = (assignment.get("role"), assignment.get("printed_name"))
        group = groups.setdefault(key, {"role": key[0], "names": [key[1]], "targets": []})
        target = assignment.get("target")
        if target is not None and target not in group["targets"]:
            group["targets"].append(target)
    return list(groups.values())


def _indicator_refs(refs, indicators) -> list:
    """The export names an unnumbered indicator by its position; the fixtures by null."""
    numbers = {indicator.get("number") for indicator in indicators}
    unnumbered = [index for index, indicator in enumerate(indicators, start=1) if indicator.get("number") is None]
    return [ref if ref in numbers else (None if ref in unnumbered else ref) for ref in refs]


def _share_figure(share: dict, unit: str) -> str:
    """A share's printed figure, with the value's unit when it was written without one."""
    figure = str(share.get("figure") or "").strip()
    if figure and unit and not figure.endswith(unit.strip()):
        from .target_values import figure_text

        return figure_text(_decimal(share.get("quantity")) or Decimal(0), unit)
    return figure


def _value_items(values: list[dict], indicators) -> list[dict]:
    """The export's rows (a split item is several rows with parts 1, 2 …) as the fixtures' items."""
    items: list[dict] = []
    for value in values:
        figure = {
            "kind": value.get("kind"), "figure": value.get("figure") or "", "comparator": value.get("comparator") or "",
            "grade": value.get("grade") or "", "due": value.get("due_on"),
            "breakdown": [{"agency": share.get("agency"), "figure": _share_figure(share, value.get("unit") or "")} for share in value.get("breakdown") or []],
            "note": value.get("note", ""),
        }
        if value.get("kind") not in TargetValue.NUMERIC_KINDS:
            figure.pop("breakdown")
            figure["comparator"] = ""
        head = {
            "year": value.get("year"), "number": value.get("number"), "heading": value.get("heading", ""), "agency": value.get("agency"),
            "text": value.get("text"), "indicators": _indicator_refs(value.get("indicators") or [], indicators),
        }
        if value.get("part"):
            previous = items[-1] if items else None
            same_item = previous is not None and "parts" in previous and all(previous[k] == head[k] for k in ("year", "number", "agency", "text"))
            if not same_item:
                previous = {**head, "parts": []}
                items.append(previous)
            previous["parts"].append({"text": value.get("part_text") or "", **figure})
        else:
            items.append({**head, **figure})
    return items


# ------------------------------------------------------------------ reading a workbook

VALUE_COLUMNS = ["年度", "具體策略", "執行措施", "項次", "分項", "適用機關", "類型", "目標值原文", "數值", "單位", "比較方式", "等級", "完成期限", "衡量指標", "機關分配", "備註"]


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _cell_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value).strip()
    return text[1:] if text.startswith("'") else text  # the export's escaping of formula-like text


def read_workbook(content: bytes) -> dict:
    """An XLSX or ODS that export_plan wrote: the tree from its machine-readable sheet, with
    the values as the per-year sheets now hold them (those cells are what people edit)."""
    from anticorruption.spreadsheets import SheetFileError, read_workbook_rows

    from .exporters import MACHINE_MARK, MACHINE_SHEET

    try:
        sheets = read_workbook_rows(
            content, max_rows=5000, max_columns=len(VALUE_COLUMNS), sheets=lambda title: title == MACHINE_SHEET or title.endswith("年目標值明細"),
        )
    except SheetFileError as error:
        raise PlanImportError([("", str(error))]) from None
    if MACHINE_SHEET not in sheets:
        raise PlanImportError([("", _("找不到工作表「%(sheet)s」：這不是本系統匯出的方案檔，或該工作表被刪除了。") % {"sheet": MACHINE_SHEET})])
    chunks = sheets[MACHINE_SHEET]
    text = "".join(_cell_text(cells[1]).removeprefix(MACHINE_MARK) for number, cells in chunks[1:] if len(cells) > 1)
    tree = read_json(text.encode("utf-8"))
    problems = []
    for name, rows in sheets.items():
        if name.endswith("年目標值明細"):
            problems += _apply_value_sheet(rows, name, tree["plan"])
    if problems:
        raise PlanImportError(problems)
    return tree


def _apply_value_sheet(rows, sheet: str, plan: dict) -> list[tuple[str, str]]:
    """Each row of a year's value sheet onto its value in the tree; rows gone are values removed."""
    if not rows:
        return []
    header = [_cell_text(cell) for cell in rows[0][1]]
    if header[: len(VALUE_COLUMNS)] != VALUE_COLUMNS:
        return [(_("工作表「%(sheet)s」第 1 列") % {"sheet": sheet}, _("欄位名稱與匯出時不同，請勿增刪或移動欄位。"))]
    kinds = {str(label): value for value, label in TargetValue.Kind.choices}
    comparators = {str(label): value for value, label in TargetValue.Comparator.choices}
    by_key, problems, seen = {}, [], {}
    for strategy in plan.get("strategies") or []:
        for measure in strategy.get("measures") or []:
            for value in measure.get("values") or []:
                key = (str(value.get("year")), str(strategy.get("number")), measure.get("printed_number") or str(measure.get("number")),
                       str(value.get("number") or ""), str(value.get("part") or ""), value.get("agency") or "")
                by_key[key] = (measure, value)
    year = sheet.removesuffix("年目標值明細")
    kept = set()
    for number, cells in rows[1:]:
        cells = cells + [None] * (len(VALUE_COLUMNS) - len(cells))
        text = [_cell_text(cell) if cell is not None else "" for cell in cells]

        def where(column: int) -> str:
            return _("工作表「%(sheet)s」儲存格 %(cell)s") % {"sheet": sheet, "cell": f"{_letter(column)}{number}"}

        key = (text[0], text[1], text[2], text[3], text[4], text[5])
        if text[0] != year:
            problems.append((where(0), _("年度「%(value)s」與工作表的年度（%(year)s）不同。") % {"value": text[0], "year": year}))
            continue
        if key in seen:
            problems.append((where(1), _("與第 %(row)d 列重複（同一年度、措施、項次、分項與機關）。") % {"row": seen[key]}))
            continue
        seen[key] = number
        if key not in by_key:
            problems.append((where(1), _("找不到這一列對應的目標值（具體策略、執行措施、項次、分項或適用機關被改動）；新增目標值請經「年度目標值」研訂。")))
            continue
        measure, value = by_key[key]
        kept.add(key)
        kind = kinds.get(text[6], text[6])
        if kind not in TargetValue.Kind.values:
            problems.append((where(6), _("類型「%(value)s」不存在，應為：%(choices)s。") % {"value": text[6], "choices": "、".join(kinds)}))
            continue
        value["kind"] = kind
        value["part_text" if value.get("part") else "text"] = text[7]
        if kind in TargetValue.NUMERIC_KINDS:
            quantity = _decimal(text[8].replace(",", ""))
            if quantity is None:
                problems.append((where(8), _("「%(value)s」不是數字；%(kind)s類目標值須有數值。") % {"value": text[8], "kind": text[6]}))
                continue
            if quantity < 0:
                problems.append((where(8), _("數值不可為負數（%(value)s）。") % {"value": text[8]}))
                continue
            if kind == TargetValue.Kind.RATIO and text[9] == "%" and quantity > 100:
                problems.append((where(8), _("比率不可超過 100%%（%(value)s）。") % {"value": text[8]}))
                continue
            if _decimal(value.get("quantity")) != quantity or value.get("unit") != text[9]:
                from .target_values import figure_text

                value["figure"] = figure_text(quantity, text[9])  # the printed figure stays while the number does
            value["quantity"], value["unit"] = format(quantity.normalize(), "f"), text[9]
            value["comparator"] = comparators.get(text[10], text[10]) or "at_least"
        else:
            value["quantity"], value["unit"], value["comparator"], value["figure"] = None, "", None, ""
        value["grade"] = text[11] or None
        due = cells[12].value if cells[12] is not None else None
        if due not in (None, ""):
            from .years import parse_date_input

            try:
                value["due_on"] = parse_date_input(due).isoformat()
            except ValueError as error:
                problems.append((where(12), str(error)))
                continue
        else:
            value["due_on"] = None
            if kind == TargetValue.Kind.MILESTONE and _is_new_year(value, plan):
                problems.append((where(12), _("里程碑類目標值須有完成期限。")))
                continue
        value["note"] = text[15]
    for key, (measure, value) in by_key.items():
        if key[0] == year and key not in kept:
            measure["values"].remove(value)
    return problems


# ------------------------------------------------------------------ the difference


@dataclass
class Change:
    kind: str  # added | changed | removed
    what: str  # 執行措施, 績效目標, 績效衡量指標, 辦理機關, 目標值 …
    where: str  # 7(五), 7(五) 目標值 113 年 1 …
    before: str = ""
    after: str = ""

    @property
    def kind_label(self) -> str:
        return {"added": _("新增"), "changed": _("修改"), "removed": _("移除")}[self.kind]


@dataclass
class PlanDiff:
    code: str
    new_version: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def count(self, kind: str) -> int:
        return sum(1 for change in self.changes if change.kind == kind)


def _index(tree: dict | None) -> dict[tuple, tuple[str, str, dict]]:
    """{key: (what, where, fields)} for every item of a plan tree."""
    items = {}
    if not tree:
        return items
    value_what, years = _("目標值"), {}  # translated once, not per value
    for strategy in tree["strategies"]:
        for measure in strategy["measures"]:
            reference = f"{strategy['number']}{measure['printed_number'] or measure['number']}"
            base = (strategy["number"], measure["number"])
            items[("measure", *base)] = (_("執行措施"), reference, {"text": measure["text"], "agencies_text": measure["agencies_text"]})
            for position, target in enumerate(measure["targets"], start=1):
                items[("target", *base, position)] = (_("績效目標"), f"{reference} {target['number'] or position}", {"text": target["text"]})
            for position, indicator in enumerate(measure["indicators"], start=1):
                items[("indicator", *base, position)] = (
                    _("績效衡量指標"), f"{reference} {indicator['number'] or ''}",
                    {"text": indicator["text"], "frequency": indicator["frequency"], "aggregation": indicator["aggregation"]},
                )
            for assignment in measure["agencies"]:
                items[("agency", *base, assignment["agency"], assignment["target"])] = (
                    _("辦理機關"), f"{reference} {assignment['agency']}", {"role": assignment["role"], "printed_name": assignment["printed_name"]},
                )
            for value in measure["values"]:
                label = f"{value['number'] or ''}{'-' + str(value['part']) if value['part'] else ''}"
                items[("value", *base, value["year"], value["number"], value["part"], value["agency"])] = (
                    value_what, f"{reference} {years.get(value['year']) or years.setdefault(value['year'], _('民國%(year)d年') % {'year': value['year']})} {label}".strip(),
                    {k: value[k] for k in ("text", "part_text", "kind", "quantity", "unit", "comparator", "grade", "due_on", "note")}
                    | {"breakdown": "、".join(f"{b['agency']} {b['quantity']}" for b in value["breakdown"])},
                )
    return items


def _shown(fields: dict) -> str:
    return "；".join(f"{name}={value}" for name, value in fields.items() if value not in (None, "", []))


def plan_diff(*, before: dict | None, after: dict, code: str) -> PlanDiff:
    diff = PlanDiff(code=code, new_version=before is None)
    old, new = _index(before), _index(after)
    for key, (what, where, fields) in new.items():
        if key not in old:
            diff.changes.append(Change("added", what, where, after=_shown(fields)))
        elif old[key][2] != fields:
            changed = {name for name in fields if old[key][2].get(name) != fields[name]}
            diff.changes.append(Change(
                "changed", what, where,
                before=_shown({n: old[key][2].get(n) for n in changed}), after=_shown({n: fields[n] for n in changed}),
            ))
    for key, (what, where, fields) in old.items():
        if key not in new:
            diff.changes.append(Change("removed", what, where, before=_shown(fields)))
    return diff


def _tree(plan: PlanVersion | None) -> dict | None:
    return PlanJsonExporter().tree(plan)["plan"] if plan is not None else None


# ------------------------------------------------------------------ preview and apply


@dataclass
class ImportResult:
    plan: PlanVersion | None
    diff: PlanDiff
    stats: LoadStats
    applied: bool
    lineage: LineageProposal | None = None  # the matching to the version before, if there is one
    lineage_added: int = 0
    lineage_removed: int = 0


class _Preview(Exception):
    """Raised to roll the trial back."""


def plan_import(
    *, content: bytes, filename: str = "plan.json", apply: bool, expected_code: str | None = None, lineage: dict | None = None, user=None,
) -> ImportResult:
    """Preview (``apply`` false) or apply a plan file; all of it or nothing.

    ``lineage`` holds AAC's corrections to the proposed matching with the version before
    ({"measures": {new ref: old ref or None}, "indicators": {…}}, see measures/lineage.py)."""
    tree = read_workbook(content) if content[:2] == b"PK" else read_json(content)
    plan_data = tree["plan"]
    code = str(plan_data.get("code") or "").strip()
    if expected_code is not None and code != expected_code:
        raise PlanImportError([("plan.code", _("這是「%(code)s」版的方案檔，不是「%(expected)s」版。") % {"code": code or "?", "expected": expected_code})])
    if problems := check_values(plan_data):
        raise PlanImportError(problems)
    stored = PlanVersion.objects.filter(code=code).first()
    before = _tree(stored)
    try:
        plan_file = PlanFile(filename, data_from_tree(plan_data), verbatim=False)
    except DataFileError as error:
        raise PlanImportError([(error.entry, error.problem)]) from None
    proposal = _lineage_proposal(plan_data, code=code, first_year=plan_file.plan_fields["first_year"], stored=stored, choices=lineage)
    result = None
    published_before = set(TargetYear.objects.filter(state=TargetYear.State.PUBLISHED).values_list("year", flat=True))
    try:
        with transaction.atomic():
            try:
                plan, stats = plan_file.write()
            except DataFileError as error:
                raise PlanImportError([(error.entry, error.problem)]) from None
            added = removed = 0
            if proposal is not None:
                added, removed = lineage_write(plan=plan, proposal=proposal, user=user)
            # Nothing written: the stored plan is still the one exported before.
            after = _tree(plan) if stats.changed or before is None else before
            result = ImportResult(
                plan=plan, diff=plan_diff(before=before, after=after, code=code), stats=stats, applied=apply,
                lineage=proposal, lineage_added=added, lineage_removed=removed,
            )
            if not apply:
                raise _Preview
            if years := sorted(set(plan_file.value_years()) - published_before):
                values_published.send(sender=PlanVersion, years=years)
    except _Preview:
        result.plan = PlanVersion.objects.filter(code=code).first()
    return result


def _lineage_proposal(plan_data: dict, *, code: str, first_year: int, stored: PlanVersion | None, choices: dict | None) -> LineageProposal | None:
    """The matching with the version before: proposed by reference and text, then what the
    file carries, then what is already confirmed, then AAC's corrections, each over the last."""
    previous = previous_version(code=code, first_year=first_year)
    if previous is None:
        return None
    measures, indicators, continues = tree_items(plan_data)
    proposal = lineage_propose(previous=previous, measures=measures, indicators=indicators)
    try:
        carried = {"measures": {}, "indicators": {}}
        for reference, links in continues.items():
            for link in links if isinstance(links, list) else []:
                if isinstance(link, dict) and link.get("plan") == previous.code:
                    carried["indicators" if "#" in reference else "measures"][reference] = link.get("reference")
        proposal.choose(carried, where="continues")
        if stored is not None:
            proposal.choose(stored_choices(stored, previous), where="lineage", strict=False)
        if choices:
            proposal.choose(choices, where="lineage")
    except LineageError as error:
        raise PlanImportError(error.problems) from None
    if missing := proposal.unmapped_with_figures():
        raise UnmappedFiguresError([
            ("lineage", _("「%(plan)s」的%(label)s（%(ref)s）「%(text)s」已有填報資料，新版本卻沒有指標延續它；請在對應表中指定延續它的指標（命令列：--lineage 對應檔），已有的資料才能接續。") % {
                "plan": previous, "label": item.label, "ref": item.reference, "text": item.text[:40],
            })
            for item in missing
        ], proposal)
    return proposal
