"""The year's target sheet (年度目標值提報表): a lead agency's proposals for year N as
XLSX or ODS, filled in offline and uploaded.

One row per proposal, prefilled with what is proposed (at first N−1's value),
beside N−1's target and N−1's achieved figure (read-only). The writing and the
reading are the quarterly entry sheet's (reporting/spreadsheets.py): the same
hidden key column, shaded cells to fill in, protection, formula refusal and
header checks. An upload is checked whole and every problem named by its cell
(「儲存格 I7：數值「三百」不是數字…」); then every changed row goes through
``proposal_save`` — the service's permission, state, version and value checks —
in one transaction that a preview always rolls back and an apply keeps only when
no row failed. Agency shares (機關分配) are not in the sheet and are kept as they are.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Role
from agencies.selectors import is_agency_member
from anticorruption.spreadsheets import ODS_CONTENT_TYPE, XLSX_CONTENT_TYPE, Sheet, render_ods, render_xlsx
from measures.exporters import ExportFile
from measures.models import TargetValue, TargetYear
from measures.target_values import FIELD_LABELS, TargetValueInputError, clean_value_input, plain_decimal

from .exporters.dashboard import figure_text
from .models import TargetProposal
from .selectors import target_setting as selectors
from .services.target_setting import EDITABLE_STATES, ProposalConflict, ProposalInput, proposal_save
from .spreadsheets import (
    BLANK,
    Cell,
    SheetFileError,
    SheetPlan,
    cell_text,
    cell_value_of,
    column_letter,
    finish_ods,
    finish_xlsx,
    fold,
    header_columns,
    read_sheet,
    stale_message,
)

# The headers are the file format (not interface text): a downloaded file must upload again.
KEY = "提案代碼（請勿修改）"
AGENCY, MEASURE, ITEM = "提報機關", "執行措施", "項次"
PREVIOUS_TARGET, PREVIOUS_FIGURE = "前一年度目標值", "前一年度達成"
TEXT, KIND, QUANTITY, UNIT, COMPARATOR = "目標值", "類型", "數值", "單位", "比較方式"
GRADE, DUE, NOTE, VERSION, STATE = "等級", "完成期限", "說明", "版本", "狀態"

# Proposal field → its column, in the order the columns appear.
VALUE_COLUMNS = {"text": TEXT, "kind": KIND, "quantity": QUANTITY, "unit": UNIT, "comparator": COMPARATOR, "grade": GRADE, "due_on": DUE, "note": NOTE}
HEADERS = (KEY, AGENCY, MEASURE, ITEM, PREVIOUS_TARGET, PREVIOUS_FIGURE, *VALUE_COLUMNS.values(), VERSION, STATE)
REQUIRED_COLUMNS = (KEY, *VALUE_COLUMNS.values(), VERSION)
WIDTHS = {KEY: 10, AGENCY: 18, MEASURE: 30, ITEM: 6, PREVIOUS_TARGET: 40, PREVIOUS_FIGURE: 12, TEXT: 50, NOTE: 30, VERSION: 6, STATE: 14}

SHEET_TITLE = "目標值提報"
HELP_TITLE = "填寫說明"
_KEY = re.compile(r"^T(\d+)$", re.IGNORECASE)
_COLUMN_INDEX = {header: index for index, header in enumerate(HEADERS)}


def row_key(proposal_id: int) -> str:
    return f"T{proposal_id}"


def _kind_labels() -> list[str]:
    return [str(label) for _value, label in TargetValue.Kind.choices]


def _comparator_labels() -> list[str]:
    return [str(label) for _value, label in TargetValue.Comparator.choices]


# ----------------------------------------------------------------- download


@dataclass
class TargetSheetLayout:
    sheet: Sheet
    editable: list[set[int]]
    help: Sheet


def _previous_target(previous: TargetValue | None) -> str:
    if previous is None:
        return _("（前一年度無此項）")
    text = previous.display_text
    if previous.quantity is not None:
        text += f"\n{previous.get_comparator_display()} {plain_decimal(previous.quantity)} {previous.unit}".rstrip()
    if previous.grade:
        text += "\n" + _("「%(grade)s」級") % {"grade": previous.grade}
    if previous.due_on:
        text += "\n" + _("期限 %(date)s") % {"date": previous.due_on.isoformat()}
    return text


def _previous_figure(figure):
    if figure is None or not figure.reported:
        return _("無資料")
    if figure.value is not None:
        return figure.value.quantize(Decimal("0.01")).normalize()
    return figure_text(figure) or _("無資料")


def sheet_layout(*, target_year: TargetYear, agency=None) -> TargetSheetLayout:
    """The year's proposals of one lead agency (or of all), read through the agency page's selector."""
    if agency is not None:
        proposals = selectors.agency_proposals(target_year=target_year, agency=agency)
    else:
        proposals = selectors.proposals_matching(target_year=target_year, query="")
    groups = selectors.proposal_groups(proposals=proposals, target_year=target_year)
    sheet = Sheet(title=SHEET_TITLE, columns=[(header, WIDTHS.get(header, 10)) for header in HEADERS], autofilter=True)
    editable_columns = {_COLUMN_INDEX[column] for column in VALUE_COLUMNS.values()}
    open_year = not target_year.is_published
    editable = []
    for group in groups:
        for line in group.lines:
            p = line.proposal
            sheet.append([
                row_key(p.pk),
                p.lead_agency.name,
                f"{group.measure.reference} {group.measure.text}",
                p.label,
                _previous_target(line.previous),
                _previous_figure(line.previous_figure),
                p.text,
                str(TargetValue.Kind(p.kind).label),
                p.quantity.normalize() if p.quantity is not None else None,
                p.unit or None,
                str(TargetValue.Comparator(p.comparator).label) if p.comparator else None,
                p.grade or None,
                p.due_on,
                p.note or None,
                p.version,
                p.get_state_display(),
            ])
            editable.append(editable_columns if open_year and p.state in EDITABLE_STATES else set())
    help_sheet = Sheet(title=HELP_TITLE, columns=[(_("說明"), 100)], landscape=False)
    for line in _help_lines(target_year=target_year, agency=agency):
        help_sheet.append([line])
    return TargetSheetLayout(sheet=sheet, editable=editable, help=help_sheet)


def _help_lines(*, target_year, agency) -> list[str]:
    year = target_year.year
    return [
        _("%(who)s民國%(year)d年目標值提報表，每列一項目標值；下載時間 %(when)s。") % {
            "who": agency.name if agency else _("全部主辦機關"), "year": year, "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        },
        _("「前一年度目標值」與「前一年度達成」是民國%(previous)d年的目標值與全國達成數值（僅計已核定的填報），僅供參考，不會讀取。") % {"previous": year - 1},
        _("只能填寫淡黃色的欄位；已送出、已核可或已核定公布的項目不能修改。"),
        _("類型請填：%(kinds)s；比較方式請填：%(comparators)s。") % {"kinds": "、".join(_kind_labels()), "comparators": "、".join(_comparator_labels())},
        _("數量、金額、比率與維持類須填數值與單位（數值可用全形數字、千分位逗號或「1萬5,000」，不可為負數，比率不可超過 100%）；里程碑須填完成期限（例如 113/11/30 或 2024-11-30）；等級類須填等級。"),
        _("機關分配數不在本表中，維持原狀；如需調整請在系統中逐項修改。"),
        _("「版本」用來確認您下載後是否有人改過同一項目標值，請勿修改；第一欄（隱藏）是提案代碼，也請勿修改。"),
        _("上傳後會先列出每一列的變更與錯誤；確認後按「套用」，所有列一併寫入，有任何錯誤則全部不寫入。"),
    ]


class TargetSheetExporter:
    """The year's proposals as a sheet to fill in: ``render() -> ExportFile``."""

    identifier = ""
    verbose_name = ""
    extension = ""
    content_type = ""

    def render(self, *, target_year: TargetYear, agency=None) -> ExportFile:
        layout = sheet_layout(target_year=target_year, agency=agency)
        who = agency.name if agency is not None else _("全部主辦機關")
        filename = f"{who}_民國{target_year.year}年_目標值提報表.{self.extension}"
        return ExportFile(filename, self.content_type, self.build(layout))

    def build(self, layout: TargetSheetLayout) -> bytes:
        raise NotImplementedError


class XlsxTargetSheet(TargetSheetExporter):
    identifier, verbose_name, extension, content_type = "xlsx", "Excel", "xlsx", XLSX_CONTENT_TYPE

    def build(self, layout):
        choices = {
            _COLUMN_INDEX[KIND]: (_kind_labels(), _("類型請從清單選擇。")),
            _COLUMN_INDEX[COMPARATOR]: (_comparator_labels(), _("比較方式請從清單選擇。")),
        }
        return finish_xlsx(render_xlsx([layout.sheet, layout.help]), sheet_title=SHEET_TITLE, editable=layout.editable, choice_lists=choices)


class OdsTargetSheet(TargetSheetExporter):
    identifier, verbose_name, extension, content_type = "ods", "ODS", "ods", ODS_CONTENT_TYPE

    def build(self, layout):
        return finish_ods(render_ods([layout.sheet, layout.help]), sheet_title=SHEET_TITLE, editable=layout.editable)


EXPORTERS = {exporter.identifier: exporter for exporter in (XlsxTargetSheet(), OdsTargetSheet())}


# ---------------------------------------------------------------- checking


@dataclass(eq=False)
class TargetRowPlan:
    """One data row of the upload: what it asks, what would change, what is wrong."""

    number: int
    key: str = ""
    proposal: TargetProposal | None = None
    values: dict = field(default_factory=dict)  # as proposal_save takes them
    version: int | None = None
    changes: list = field(default_factory=list)  # (column, before, after) as text
    errors: list = field(default_factory=list)  # (column, message naming the cell)
    note: str = ""
    saved: TargetProposal | None = None

    def fail(self, column: str, problem: str, letter: str = ""):
        if letter:
            # 「儲存格 I7：數值「三百」不是數字…」 reads as one phrase; other problems follow the column.
            template = _("儲存格 %(cell)s：%(column)s%(problem)s") if problem.startswith("「") else _("儲存格 %(cell)s（%(column)s）：%(problem)s")
            message = template % {"cell": f"{letter}{self.number}", "column": column, "problem": problem}
        else:
            message = _("第 %(row)d 列（%(column)s）：%(problem)s") % {"row": self.number, "column": column, "problem": problem}
        self.errors.append((column, message))

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        return "changed" if self.changes else "unchanged"

    @property
    def status_label(self) -> str:
        return {"error": _("錯誤"), "unchanged": _("未變更"), "changed": _("修改")}[self.status]


def sheet_check(*, user, year: int, content: bytes) -> SheetPlan:
    """The preview: every row checked and tried through proposal_save, then rolled back."""
    return _run(user=user, year=year, content=content, write=False)


def sheet_apply(*, user, year: int, content: bytes) -> SheetPlan:
    """Write every changed row, or none when any row fails (checked again from the file)."""
    return _run(user=user, year=year, content=content, write=True)


def _run(*, user, year: int, content: bytes, write: bool) -> SheetPlan:
    from .spreadsheets import MAX_ROWS

    plan = SheetPlan()
    try:
        rows = read_sheet(content, sheet_title=SHEET_TITLE)
    except SheetFileError as error:
        plan.errors.append(str(error))
        return plan
    if not rows:
        plan.errors.append(_("檔案是空的。"))
        return plan
    columns, problems = header_columns(rows[0], known=HEADERS, required=REQUIRED_COLUMNS)
    if problems:
        plan.errors.extend(problems)
        return plan
    data = rows[1:]
    if len(data) > MAX_ROWS:
        plan.errors.append(_("檔案有 %(count)d 列資料，超過上限 %(limit)d 列。") % {"count": len(data), "limit": MAX_ROWS})
        return plan
    plan.rows = [TargetRowPlan(number) for number, _cells in data]
    cells_of = {row.number: cells for row, (_number, cells) in zip(plan.rows, data)}

    def cell(row, column) -> Cell:
        index = columns.get(column)
        cells = cells_of[row.number]
        return cells[index] if index is not None and index < len(cells) else BLANK

    _resolve_keys(plan.rows, cell, user, year)
    named = set(columns.values())
    for row in plan.rows:
        _check_row(row, cells_of[row.number], columns, named, cell)
    with transaction.atomic():
        for row in plan.rows:
            if not row.errors and row.changes:
                _save(row, user, columns)
        if not write or plan.has_errors:
            transaction.set_rollback(True)
        else:
            plan.applied = True
    if not plan.applied:
        for row in plan.rows:
            row.saved = None
    return plan


def _resolve_keys(rows, cell, user, year):
    """Find each row's proposal, in a fixed number of queries."""
    wanted = {}
    for row in rows:
        key_cell = cell(row, KEY)
        row.key = cell_text(key_cell) if not key_cell.formula else ""
        match = _KEY.match(fold(row.key))
        if key_cell.formula:
            row.fail(KEY, _("請輸入數值，不要使用公式。") + _("提案代碼請保留下載時的內容。"))
        elif not row.key:
            row.fail(KEY, _("缺少提案代碼。請使用本系統下載的檔案，不要修改第一欄（隱藏欄）。"))
        elif not match:
            row.fail(KEY, _("「%(key)s」不是有效的提案代碼；請勿修改第一欄（隱藏欄）。") % {"key": row.key})
        else:
            wanted[row] = int(match[1])
    proposals = TargetProposal.objects.select_related("target_year", "lead_agency", "updated_by", "measure__strategy").in_bulk(set(wanted.values()))
    first_of_key = {}
    for row, pk in wanted.items():
        proposal = proposals.get(pk)
        # Another agency's proposal reads the same as one that does not exist.
        if proposal is None or not is_agency_member(user, proposal.lead_agency_id, Role.OFFICER):
            row.fail(KEY, _("提案代碼「%(key)s」不是本機關主辦的目標值；只能上傳本機關的目標值提報表。") % {"key": row.key})
            continue
        if proposal.target_year.year != year:
            row.fail(KEY, _("這一列是民國%(row_year)d年的目標值，這裡上傳的是民國%(year)d年的提報表。") % {"row_year": proposal.target_year.year, "year": year})
            continue
        other = first_of_key.setdefault(pk, row)
        if other is not row:
            row.fail(KEY, _("與第 %(other)d 列是同一項目標值，每項只能有一列。") % {"other": other.number})
            continue
        row.proposal = proposal


def _shown(name: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if name == "kind":
        return str(TargetValue.Kind(value).label)
    if name == "comparator":
        return str(TargetValue.Comparator(value).label)
    return str(value)


def _same(before, after) -> bool:
    if before in (None, "") and after in (None, ""):
        return True
    if isinstance(before, str) and isinstance(after, str):
        return " ".join(before.split()) == " ".join(after.split())
    return before == after


def _check_row(row: TargetRowPlan, cells: list[Cell], columns: dict, named: set, cell):
    formulas = False
    for index, found in enumerate(cells):
        if index not in named and not found.blank:
            row.fail(column_letter(index), _("這一欄沒有欄位名稱，內容不會被讀取；請刪除或移到正確的欄位。"), column_letter(index))
        elif found.formula and index != columns.get(KEY):
            column = next(name for name, position in columns.items() if position == index)
            if column in VALUE_COLUMNS.values() or column == VERSION:
                row.fail(column, _("請輸入數值，不要使用公式。"), column_letter(index))
                formulas = True
    if row.proposal is None or formulas:
        return
    proposal = row.proposal
    comparator_codes = {str(label): value for value, label in TargetValue.Comparator.choices}
    values = {}
    for name, column in VALUE_COLUMNS.items():
        found = cell(row, column)
        values[name] = cell_value_of(found) if name in ("quantity", "due_on") else cell_text(found)
    comparator = fold(values["comparator"] or "")
    if comparator and comparator not in TargetValue.Comparator.values:
        if comparator not in comparator_codes:
            row.fail(COMPARATOR, _("「%(text)s」不是比較方式；請填：%(choices)s。") % {"text": values["comparator"], "choices": "、".join(_comparator_labels())}, column_letter(columns[COMPARATOR]))
            return
        comparator = comparator_codes[comparator]
    values["comparator"] = comparator
    values["kind"] = fold(values["kind"] or "")
    values["shares"] = proposal.shares  # not in the sheet: kept as they are
    row.values = values
    version_cell = cell(row, VERSION)
    printed = fold(cell_text(version_cell))
    if printed and not re.fullmatch(r"\d+(\.0+)?", printed):
        row.fail(VERSION, _("「%(text)s」不是版本編號；請保留下載時的內容。") % {"text": cell_text(version_cell)}, column_letter(columns[VERSION]))
        return
    row.version = int(Decimal(printed)) if printed else None
    try:
        clean = clean_value_input(data=values, year=proposal.target_year.year)
    except TargetValueInputError as error:
        if _as_downloaded(proposal, values):
            # A prefilled value still incomplete (a milestone the plan printed without a
            # date): left for later, as on the proposal's page; submitting will ask for it.
            row.note = _("尚待補填：%(problems)s") % {"problems": str(error)}
        else:
            _fail_fields(row, error.errors, columns)
        return
    cleaned = clean.as_fields()
    for name in VALUE_COLUMNS:
        before = getattr(proposal, name)
        after = cleaned[name]
        if name == "quantity":
            before, after = (before.normalize() if before is not None else None), (after.normalize() if after is not None else None)
        if not _same(before, after):
            row.changes.append((VALUE_COLUMNS[name], _shown(name, before), _shown(name, after)))
    frozen = proposal.state not in EDITABLE_STATES or proposal.target_year.is_published
    if not row.changes:
        if frozen:
            row.note = _("目前為「%(state)s」") % {"state": proposal.get_state_display()}
        return
    # The guards proposal_save applies, checked here so each is named at its column.
    if proposal.target_year.is_published:
        row.fail(STATE, _("民國%(year)d年的目標值已核定公布，不能再修改提案。") % {"year": proposal.target_year.year})
    elif frozen:
        row.fail(STATE, _("這項目標值目前為「%(state)s」，不能修改；請刪除這一列的變更，或待退回後再上傳。") % {"state": proposal.get_state_display()})
    elif row.version != proposal.version:
        row.fail(VERSION, stale_message(proposal, row.version), column_letter(columns[VERSION]))


def _as_downloaded(proposal: TargetProposal, values: dict) -> bool:
    """Whether the row's cells still say what the proposal holds (before any cleaning)."""
    kind_codes = {str(label): value for value, label in TargetValue.Kind.choices}
    quantity = values["quantity"]
    if isinstance(quantity, str):
        return False  # a number typed as text is a change (and an error)
    due_on = values["due_on"]
    if isinstance(due_on, datetime.datetime):
        due_on = due_on.date()
    return (
        _same(proposal.text, values["text"]) and kind_codes.get(values["kind"], values["kind"]) == proposal.kind
        and (quantity.normalize() if quantity is not None else None) == (proposal.quantity.normalize() if proposal.quantity is not None else None)
        and _same(proposal.unit, values["unit"]) and _same(proposal.comparator, values["comparator"])
        and _same(proposal.grade, values["grade"]) and due_on == proposal.due_on and _same(proposal.note, values["note"])
    )


def _fail_fields(row, errors: dict, columns: dict):
    for name, message in errors.items():
        # A share that no longer adds up follows from the figure: name the figure's cell.
        column = VALUE_COLUMNS.get(name) or (QUANTITY if name == "shares" else name)
        if name == "shares":
            message = f"{FIELD_LABELS['shares']}：{message}"
        row.fail(column, message, column_letter(columns[column]) if column in columns else "")


def _save(row: TargetRowPlan, user, columns: dict):
    """The row through proposal_save; what it refuses is reported at the row's cells."""
    try:
        row.saved = proposal_save(proposal=row.proposal, user=user, data=ProposalInput(values=row.values, expected_version=row.version))
    except TargetValueInputError as error:
        _fail_fields(row, error.errors, columns)
    except ProposalConflict as error:
        row.fail(VERSION, stale_message(error.current, row.version), column_letter(columns[VERSION]))
    except PermissionDenied as error:
        row.fail(KEY, str(error))
    except ValidationError as error:
        row.fail(STATE, " ".join(error.messages))
