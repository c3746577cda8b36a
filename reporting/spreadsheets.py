"""Bulk entry by spreadsheet: an agency's items for a quarter, downloaded as
XLSX or ODS prefilled with what is entered, filled in offline and uploaded.

The sheet has one row per obligation (its period for the quarter chosen as on
the officer's page). Columns: a hidden, locked key naming obligation and
period, four read-only columns describing the item, the value columns the
agency's kinds of entry need, 執行情形, 未達成原因及策進作為, 版本 and 狀態.
Only the cells an officer may change are unlocked (and shaded); the sheet is
protected against accidents, not against a determined user — the server
checks every row again.

An upload is read whole, every problem found at once and named by its row (as
numbered in the sheet, the header being row 1) and column. Then every changed
row goes through ``entry_save`` — the same permission, locked-period, state,
version and value checks and the same history as the entry form — inside one
transaction: a check rolls it back whatever happens (the preview), an apply
keeps it only when no row failed (all or nothing). Unchanged rows are
reported and not saved.

Why not django-import-export, as the agency registry uses: its row model
saves model instances (import_instance → save_instance), while an entry must
change only through entry_save with the version the officer downloaded; and
tablib reads XLSX with ``data_only=True``, which hides formulas (a formula
written by a program has no cached value and reads as an empty cell), so a
formula could not be refused. The files are read here with openpyxl and odfpy.
"""

import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Role
from anticorruption.spreadsheets import (
    BLANK,
    ODS_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    Cell,
    Sheet,
    SheetFileError,
    escape_formula,
    read_rows,
    render_ods,
    render_xlsx,
)
from measures.exporters import ExportFile

from . import selectors_entries
from .models import Entry, Obligation, ReportingPeriod
from .services.entries import (
    EDITABLE_STATES,
    TRACKED_FIELDS,
    EntryConflict,
    EntryInput,
    WorkflowError,
    is_agency_member,
    target_unit,
    entry_save,
    period_accepts_changes,
)
from .values import KIND_FIELDS, EntryValueError, clean_entry_values

# The headers are the file format rather than interface text: they stay the
# same whatever the language, or a downloaded file would not upload again.
KEY = "項目代碼（請勿修改）"
MEASURE, INDICATOR, PERIOD, TARGET = "執行措施", "績效衡量指標", "填報期間", "目標值"
QUANTITY, NUMERATOR, DENOMINATOR = "本期數值", "分子", "分母"
MILESTONE, REACHED_ON, GRADE, TEXT = "辦理進度", "完成日期", "等級", "辦理情形"
NARRATIVE, SHORTFALL, VERSION, STATE = "執行情形", "未達成原因及策進作為", "版本", "狀態"

# Entry field → its column, in the order the columns appear.
VALUE_COLUMNS = {
    "quantity": QUANTITY, "numerator": NUMERATOR, "denominator": DENOMINATOR,
    "milestone": MILESTONE, "reached_on": REACHED_ON, "grade": GRADE, "text": TEXT,
}
COLUMN_OF_FIELD = {**VALUE_COLUMNS, "narrative": NARRATIVE, "shortfall_reason": SHORTFALL}
REQUIRED_COLUMNS = (KEY, NARRATIVE, SHORTFALL, VERSION)  # besides the value columns the rows' kinds need
KNOWN_COLUMNS = (KEY, MEASURE, INDICATOR, PERIOD, TARGET, *VALUE_COLUMNS.values(), NARRATIVE, SHORTFALL, VERSION, STATE)
WIDTHS = {KEY: 12, MEASURE: 30, INDICATOR: 40, PERIOD: 12, TARGET: 30, TEXT: 40, NARRATIVE: 50, SHORTFALL: 40, VERSION: 6, STATE: 16}

SHEET_TITLE = "填報資料"
HELP_TITLE = "填寫說明"
MAX_UPLOAD_BYTES = 1024 * 1024  # a quarter's sheet is some 20 KB; the file waits in the session
MAX_ROWS = 1000  # an agency has a few dozen items a quarter
MAX_COLUMNS = 60

_KEY = re.compile(r"^O(\d+)-P(\d+)$", re.IGNORECASE)
_EDITABLE_FILL = "FFF9E5"  # the cells to fill in


def fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))



def row_key(obligation_id: int, period_id: int) -> str:
    return f"O{obligation_id}-P{period_id}"


# ----------------------------------------------------------------- download


@dataclass
class SheetLayout:
    """The data sheet and, per data row, which columns an officer may change."""

    sheet: Sheet
    editable: list[set[int]]
    milestone_column: int | None
    help: Sheet


def _display_cell(entry: Entry | None, name: str):
    value = getattr(entry, name) if entry is not None else None
    if name == "milestone" and value:
        return str(Entry.Milestone(value).label)
    return value if value not in (None, "") else None


def sheet_layout(*, agency, year: int, quarter: int) -> SheetLayout:
    """The agency's items for the quarter, one row each, read through the
    officer page's selector so both list the same items."""
    groups = selectors_entries.agency_items(agency=agency, year=year, quarter=quarter)
    items = [row for measures in groups.values() for rows in measures.values() for row in rows if row.period is not None]
    # entry_kind() as entry_save calls it (it reads the target kinds of every year).
    kinds = [item.obligation.indicator.entry_kind() for item in items]
    value_fields = [name for name in VALUE_COLUMNS if any(name in KIND_FIELDS[kind] for kind in kinds)]
    headers = [KEY, MEASURE, INDICATOR, PERIOD, TARGET, *(VALUE_COLUMNS[name] for name in value_fields), NARRATIVE, SHORTFALL, VERSION, STATE]
    sheet = Sheet(title=SHEET_TITLE, columns=[(header, WIDTHS.get(header, 12)) for header in headers], autofilter=True)
    editable_columns = {header: index for index, header in enumerate(headers)}
    accepts: dict[int, bool] = {}
    editable = []
    for item, kind in zip(items, kinds):
        entry, period, obligation = item.entry, item.period, item.obligation
        if period.pk not in accepts:
            accepts[period.pk] = period_accepts_changes(period, agency.pk)
        state = entry.get_state_display() if entry else _("尚未填寫")
        if not accepts[period.pk]:
            state = _("%(state)s（期間已鎖定）") % {"state": state}
        measure = obligation.indicator.measure
        row = [
            row_key(obligation.pk, period.pk),
            f"{measure.reference} {measure.text}",
            obligation.indicator.text,
            period.label,
            "\n".join(value.display_text for value in item.targets),
            *(_display_cell(entry, name) if name in KIND_FIELDS[kind] else None for name in value_fields),
            entry.narrative if entry else None,
            entry.shortfall_reason if entry else None,
            entry.version if entry else None,
            state,
        ]
        sheet.append(row)
        can_change = accepts[period.pk] and (entry is None or entry.state in EDITABLE_STATES)
        names = [*KIND_FIELDS[kind], "narrative", "shortfall_reason"] if can_change else []
        editable.append({editable_columns[COLUMN_OF_FIELD[name]] for name in names})
    help_sheet = Sheet(title=HELP_TITLE, columns=[(_("說明"), 100)], landscape=False)
    for line in _help_lines(agency=agency, year=year, quarter=quarter):
        help_sheet.append([line])
    return SheetLayout(sheet=sheet, editable=editable, milestone_column=editable_columns.get(MILESTONE), help=help_sheet)


def _help_lines(*, agency, year, quarter) -> list[str]:
    milestones = "、".join(f"「{label}」" for _value, label in Entry.Milestone.choices)
    return [
        _("%(agency)s %(year)d年第%(quarter)d季的填報項目，每列一項；下載時間 %(when)s。") % {
            "agency": agency.name, "year": year, "quarter": quarter, "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        },
        _("只能填寫淡黃色的欄位；已送出、已核定或期間已鎖定的項目不能修改。"),
        _("數值請直接輸入數字（可用全形數字與千分位逗號），不可為負數，也不要使用公式。"),
        _("比率類指標請填分子與分母：分母不可為 0，分子不可大於分母。"),
        _("辦理進度請填%(choices)s；已完成者請填完成日期，須在該填報期間內（例如 112/05/01 或 2023-05-01）。") % {"choices": milestones},
        _("「版本」用來確認您下載後是否有人改過同一筆資料，請勿修改；第一欄（隱藏）是項目代碼，也請勿修改。"),
        _("上傳後會先列出每一列的變更與錯誤；確認後按「套用」，所有列一併寫入，有任何錯誤則全部不寫入。"),
    ]


def finish_xlsx(content: bytes, *, sheet_title: str, editable: list[set[int]], choice_lists: dict | None = None) -> bytes:
    """Hide the key (column A), unlock and shade the cells to fill in, protect the rest.

    ``editable`` holds, per data row, the columns (0-based) that may change;
    ``choice_lists`` maps a column to (labels, error message) offered as a drop-down.
    Shared by every sheet that is downloaded to be filled in and uploaded again."""
    from openpyxl import load_workbook
    from openpyxl.styles import PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = load_workbook(io.BytesIO(content))
    worksheet = workbook[sheet_title]
    worksheet.column_dimensions["A"].hidden = True
    fill = PatternFill("solid", fgColor=_EDITABLE_FILL)
    for row_number, columns in enumerate(editable, start=2):
        for column in columns:
            cell = worksheet.cell(row=row_number, column=column + 1)
            cell.protection = Protection(locked=False)
            cell.fill = fill
    for column, (labels, error) in (choice_lists or {}).items():
        if not editable:
            break
        choices = DataValidation(type="list", formula1='"' + ",".join(str(label) for label in labels) + '"', allow_blank=True)
        choices.error = error
        letter = worksheet.cell(row=1, column=column + 1).column_letter
        choices.add(f"{letter}2:{letter}{len(editable) + 1}")
        worksheet.add_data_validation(choices)
    # Protected so the key and the reference columns are not changed by
    # accident; columns may still be resized, rows sorted and filtered.
    worksheet.protection.sheet = True
    worksheet.protection.formatColumns = False
    worksheet.protection.formatRows = False
    worksheet.protection.sort = False
    worksheet.protection.autoFilter = False
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def finish_ods(content: bytes, *, sheet_title: str, editable: list[set[int]]) -> bytes:
    """The same for ODS: a collapsed key column, unprotected cells to fill in."""
    from odf.opendocument import load
    from odf.style import Style, TableCellProperties
    from odf.table import Table, TableCell, TableColumn, TableRow

    document = load(io.BytesIO(content))
    table = next(t for t in document.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == sheet_title)
    table.setAttribute("protected", "true")
    table.getElementsByType(TableColumn)[0].setAttribute("visibility", "collapse")
    open_styles = {}

    def open_style(name):
        # A copy of the cell's style (keeping its number or date format) that is not protected.
        if name not in open_styles:
            original = next(s for s in document.automaticstyles.getElementsByType(Style) if s.getAttribute("name") == name)
            style = Style(name=f"{name}Open", family="table-cell")
            if original.getAttribute("datastylename"):
                style.setAttribute("datastylename", original.getAttribute("datastylename"))
            style.addElement(TableCellProperties(
                cellprotect="none", wrapoption="wrap", verticalalign="top", border="0.5pt solid #808080", backgroundcolor=f"#{_EDITABLE_FILL}",
            ))
            document.automaticstyles.addElement(style)
            open_styles[name] = style
        return open_styles[name]

    rows = table.getElementsByType(TableRow)[1:]  # after the header row
    for row, columns in zip(rows, editable):
        cells = row.getElementsByType(TableCell)
        for column in columns:
            cells[column].setAttribute("stylename", open_style(cells[column].getAttribute("stylename")))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


class EntrySheetExporter:
    """The agency's items for a quarter as a sheet to fill in: ``render() -> ExportFile``."""

    identifier = ""
    verbose_name = ""
    extension = ""
    content_type = ""

    def render(self, *, agency, year: int, quarter: int) -> ExportFile:
        layout = sheet_layout(agency=agency, year=year, quarter=quarter)
        filename = f"{agency.name}_{year}年第{quarter}季_填報資料.{self.extension}"
        return ExportFile(filename, self.content_type, self.build(layout))

    def build(self, layout: SheetLayout) -> bytes:
        raise NotImplementedError


class XlsxEntrySheet(EntrySheetExporter):
    identifier, verbose_name, extension, content_type = "xlsx", "Excel", "xlsx", XLSX_CONTENT_TYPE

    def build(self, layout):
        choices = {}
        if layout.milestone_column is not None:
            choices[layout.milestone_column] = ([label for _value, label in Entry.Milestone.choices], _("辦理進度請從清單選擇。"))
        return finish_xlsx(render_xlsx([layout.sheet, layout.help]), sheet_title=SHEET_TITLE, editable=layout.editable, choice_lists=choices)


class OdsEntrySheet(EntrySheetExporter):
    identifier, verbose_name, extension, content_type = "ods", "ODS", "ods", ODS_CONTENT_TYPE

    def build(self, layout):
        return finish_ods(render_ods([layout.sheet, layout.help]), sheet_title=SHEET_TITLE, editable=layout.editable)


EXPORTERS = {exporter.identifier: exporter for exporter in (XlsxEntrySheet(), OdsEntrySheet())}


# ------------------------------------------------------------------ reading


def read_sheet(content: bytes, *, sheet_title: str = SHEET_TITLE) -> list[tuple[int, list[Cell]]]:
    """The non-empty rows of the sheet named ``sheet_title`` (else the first), each with its row number."""
    return read_rows(content, sheet_title=sheet_title, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)


def cell_text(cell: Cell) -> str:
    """A cell as text, the download's escaping of formula-like text undone."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").strip()
    if text.startswith("'") and escape_formula(text[1:]) == text:
        text = text[1:]
    return text


def cell_value_of(cell: Cell):
    """What entry_save takes for a value field: numbers and dates as read, text as text."""
    if isinstance(cell.value, (Decimal, datetime.date)):
        return cell.value
    return cell_text(cell) or None


# ---------------------------------------------------------------- checking


@dataclass(eq=False)
class RowPlan:
    """One data row of the upload: what it asks, what would change, what is wrong."""

    number: int
    key: str = ""
    obligation: Obligation | None = None
    period: ReportingPeriod | None = None
    entry: Entry | None = None
    kind: str = ""
    values: dict = field(default_factory=dict)  # value fields as entry_save takes them
    narrative: str = ""
    shortfall_reason: str = ""
    version: int | None = None
    changes: list = field(default_factory=list)  # (column, before, after) as text
    errors: list = field(default_factory=list)  # (column, message naming row and column)
    note: str = ""
    saved: Entry | None = None

    def fail(self, column: str, problem: str, letter: str = ""):
        where = f"{letter}{self.number}" if letter else ""
        message = (
            _("第 %(row)d 列「%(column)s」欄（%(cell)s）：%(problem)s") if where else _("第 %(row)d 列「%(column)s」欄：%(problem)s")
        ) % {"row": self.number, "column": column, "cell": where, "problem": problem}
        self.errors.append((column, message))

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        if not self.changes:
            return "unchanged"
        return "new" if self.entry is None else "changed"

    @property
    def status_label(self) -> str:
        return {"error": _("錯誤"), "unchanged": _("未變更"), "new": _("新增"), "changed": _("修改")}[self.status]


@dataclass
class SheetPlan:
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    applied: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(len(row.errors) for row in self.rows)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self) -> dict:
        return {status: self.count(status) for status in ("new", "changed", "unchanged", "error")}

    @property
    def has_changes(self) -> bool:
        return any(row.changes for row in self.rows)


def sheet_check(*, user, content: bytes) -> SheetPlan:
    """The preview: every row checked and tried through entry_save, then rolled back."""
    return _run(user=user, content=content, write=False)


def sheet_apply(*, user, content: bytes) -> SheetPlan:
    """Write every changed row, or none when any row fails (checked again from the file)."""
    return _run(user=user, content=content, write=True)


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def header_columns(header_row, *, known=KNOWN_COLUMNS, required=REQUIRED_COLUMNS) -> tuple[dict, list[str]]:
    """Column name → index, and what is wrong with the header row (row 1)."""
    folded = {fold(column): column for column in known}
    number, cells = header_row
    columns, unknown, repeated = {}, [], []
    if number != 1:
        return {}, [_("第 1 列應為欄位名稱（請使用本系統下載的檔案，不要刪除標題列）。")]
    for index, cell in enumerate(cells):
        printed = cell_text(cell)
        if not printed:
            continue
        column = folded.get(fold(printed))
        if column is None:
            unknown.append(f"{printed}（{column_letter(index)} 欄）")
        elif column in columns:
            repeated.append(column)
        else:
            columns[column] = index
    if not columns:  # no header at all: the first row holds data or nothing
        return {}, [_("第 1 列應為欄位名稱（請使用本系統下載的檔案，不要刪除標題列）。")]
    problems = []
    if unknown:
        problems.append(_("第 1 列有無法辨識的欄位：%(columns)s。請刪除這些欄，可用的欄位：%(known)s。") % {
            "columns": "、".join(unknown), "known": "、".join(known),
        })
    if repeated:
        problems.append(_("第 1 列的欄位重複：%(columns)s。") % {"columns": "、".join(dict.fromkeys(repeated))})
    missing = [column for column in required if column not in columns]
    if missing:
        problems.append(_("檔案缺少欄位：%(columns)s。請使用本系統下載的檔案，不要刪除欄位。") % {"columns": "、".join(f"「{c}」" for c in missing)})
    return columns, problems


def _run(*, user, content: bytes, write: bool) -> SheetPlan:
    plan = SheetPlan()
    try:
        rows = read_sheet(content)
    except SheetFileError as error:
        plan.errors.append(str(error))
        return plan
    if not rows:
        plan.errors.append(_("檔案是空的。"))
        return plan
    columns, problems = header_columns(rows[0])
    if problems:
        plan.errors.extend(problems)
        return plan
    data = rows[1:]
    if len(data) > MAX_ROWS:
        plan.errors.append(_("檔案有 %(count)d 列資料，超過上限 %(limit)d 列。") % {"count": len(data), "limit": MAX_ROWS})
        return plan
    plan.rows = [RowPlan(number) for number, _cells in data]
    cells_of = {row.number: cells for row, (_number, cells) in zip(plan.rows, data)}

    def cell(row, column) -> Cell:
        index = columns.get(column)
        cells = cells_of[row.number]
        return cells[index] if index is not None and index < len(cells) else BLANK

    _resolve_keys(plan.rows, cell, user)
    missing = {}
    for row in plan.rows:
        for name in KIND_FIELDS.get(row.kind, ()):
            if VALUE_COLUMNS[name] not in columns:
                missing.setdefault(VALUE_COLUMNS[name], []).append(row.number)
    if missing:
        plan.errors.extend(
            _("檔案缺少「%(column)s」欄（第 %(rows)s 列的指標要填這一欄）。") % {"column": column, "rows": "、".join(map(str, numbers))}
            for column, numbers in missing.items()
        )
        return plan
    named = set(columns.values())
    for row in plan.rows:
        _check_row(row, cells_of[row.number], columns, named, cell)

    with transaction.atomic():
        for row in plan.rows:
            if not row.errors and row.changes:
                _save(row, user)
        if not write or plan.has_errors:
            transaction.set_rollback(True)
        else:
            plan.applied = True
    if not plan.applied:
        for row in plan.rows:
            row.saved = None
    return plan


def _resolve_keys(rows, cell, user):
    """Find each row's obligation, period and entry, in a fixed number of queries."""
    wanted = {}
    for row in rows:
        key_cell = cell(row, KEY)
        row.key = cell_text(key_cell) if not key_cell.formula else ""
        match = _KEY.match(fold(row.key))
        if key_cell.formula:
            row.fail(KEY, _("請輸入數值，不要使用公式。") + _("項目代碼請保留下載時的內容。"))
        elif not row.key:
            row.fail(KEY, _("缺少項目代碼。請使用本系統下載的檔案，不要修改第一欄（隱藏欄）。"))
        elif not match:
            row.fail(KEY, _("「%(key)s」不是有效的項目代碼；請勿修改第一欄（隱藏欄）。") % {"key": row.key})
        else:
            wanted[row] = (int(match[1]), int(match[2]))
    obligations = Obligation.objects.filter(pk__in={ids[0] for ids in wanted.values()}).select_related(
        "agency", "indicator__measure__strategy"
    ).prefetch_related("indicator__values")
    obligations = {obligation.pk: obligation for obligation in obligations}
    periods = ReportingPeriod.objects.in_bulk({ids[1] for ids in wanted.values()})
    entries = {
        (entry.obligation_id, entry.period_id): entry
        for entry in Entry.objects.filter(obligation_id__in=obligations, period_id__in=periods).select_related("updated_by")
    }
    first_of_key = {}
    for row, (obligation_id, period_id) in wanted.items():
        obligation, period = obligations.get(obligation_id), periods.get(period_id)
        # An obligation of another agency reads the same as one that does not
        # exist: the message tells nothing about agencies the user may not see.
        if obligation is None or not is_agency_member(user, obligation.agency_id, Role.OFFICER):
            row.fail(KEY, _("項目代碼「%(key)s」不是本機關可填報的項目；只能上傳本機關的填報資料。") % {"key": row.key})
            continue
        if period is None or period.year != obligation.year or period.frequency != obligation.indicator.frequency:
            row.fail(KEY, _("項目代碼「%(key)s」的填報期間不適用於此項目；請勿修改第一欄（隱藏欄）。") % {"key": row.key})
            continue
        other = first_of_key.setdefault((obligation_id, period_id), row)
        if other is not row:
            row.fail(KEY, _("與第 %(other)d 列是同一個項目，每個項目只能有一列。") % {"other": other.number})
            continue
        row.obligation, row.period = obligation, period
        row.entry = entries.get((obligation_id, period_id))
        row.kind = obligation.indicator.entry_kind(value_kinds=[value.kind for value in obligation.indicator.values.all()])


def _shown(name: str, value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if name == "milestone":
        return str(Entry.Milestone(value).label)
    return str(value)


def _same(before, after) -> bool:
    if before in (None, "") and after in (None, ""):
        return True
    if isinstance(before, str) and isinstance(after, str):
        return before.replace("\r\n", "\n").strip() == after.replace("\r\n", "\n").strip()
    return before == after


def _check_row(row: RowPlan, cells: list[Cell], columns: dict, named: set, cell):
    for index, found in enumerate(cells):
        if index not in named and not found.blank:
            row.fail(column_letter(index), _("這一欄沒有欄位名稱，內容不會被讀取；請刪除或移到正確的欄位。"), column_letter(index))
        elif found.formula and index != columns.get(KEY):
            column = next(name for name, position in columns.items() if position == index)
            row.fail(column, _("請輸入數值，不要使用公式。"), column_letter(index))
    if row.obligation is None:
        return
    used = KIND_FIELDS[row.kind]
    formulas = {column for column, index in columns.items() if index < len(cells) and cells[index].formula}
    for name, column in VALUE_COLUMNS.items():
        if column not in columns:
            continue
        found = cell(row, column)
        if name in used:
            row.values[name] = None if found.formula else cell_value_of(found)
        elif not found.blank and not found.formula:
            row.fail(column, _("此項指標不填「%(column)s」，請清空此欄；本項請填：%(used)s。") % {
                "column": column, "used": "、".join(VALUE_COLUMNS[n] for n in used),
            }, column_letter(columns[column]))
    row.narrative = cell_text(cell(row, NARRATIVE))
    row.shortfall_reason = cell_text(cell(row, SHORTFALL))
    version_cell = cell(row, VERSION)
    if not version_cell.formula:
        printed = cell_text(version_cell)
        folded = unicodedata.normalize("NFKC", printed)
        if folded and not re.fullmatch(r"\d+(\.0+)?", folded):
            row.fail(VERSION, _("「%(text)s」不是版本編號；請保留下載時的內容。") % {"text": printed}, column_letter(columns[VERSION]))
        row.version = int(Decimal(folded)) if folded and re.fullmatch(r"\d+(\.0+)?", folded) else None
    if formulas:
        return  # what a formula cell holds is unknown: no comparison
    try:
        cleaned = clean_entry_values(kind=row.kind, data=row.values, period=row.period, unit=target_unit(row.obligation))
    except EntryValueError as error:
        for name, message in error.errors.items():
            column = COLUMN_OF_FIELD.get(name, name)
            row.fail(column, message, column_letter(columns[column]) if column in columns else "")
        return
    cleaned.update(narrative=row.narrative, shortfall_reason=row.shortfall_reason)
    entry = row.entry
    for name in TRACKED_FIELDS:
        before = getattr(entry, name) if entry is not None else None
        if not _same(before, cleaned[name]):
            row.changes.append((COLUMN_OF_FIELD[name], _shown(name, before), _shown(name, cleaned[name])))
    locked = not period_accepts_changes(row.period, row.obligation.agency_id)
    frozen = entry is not None and entry.state not in EDITABLE_STATES
    if not row.changes:
        if locked:
            row.note = _("期間已鎖定")
        elif frozen:
            row.note = _("目前為「%(state)s」") % {"state": entry.get_state_display()}
        return
    # The same guards entry_save applies, checked here so that each is named
    # at its column and all of a row's problems are shown together.
    if locked:
        row.fail(PERIOD, _("%(period)s 已鎖定，無法再修改；如需補正請洽廉政署重新開放。") % {"period": row.period.label})
    if frozen:
        row.fail(STATE, _("這筆資料目前為「%(state)s」，不能修改；請刪除這一列的變更，或請審核人退回後再上傳。") % {"state": entry.get_state_display()})
    if entry is not None and row.version != entry.version and not frozen:
        row.fail(VERSION, stale_message(entry, row.version), column_letter(columns[VERSION]))
    elif entry is None and row.version is not None:
        row.fail(VERSION, _("這筆資料尚未填寫過，卻有版本 %(version)d；請重新下載後再填寫。") % {"version": row.version}, column_letter(columns[VERSION]))


def stale_message(entry, version) -> str:
    """Who saved ``entry`` (an entry or a proposal: version, updated_by, updated_at) since ``version`` was downloaded."""
    who = (entry.updated_by.get_full_name() or entry.updated_by.username) if entry.updated_by else _("其他使用者")
    return _(
        "您下載的是版本 %(yours)s，但 %(who)s 已於 %(when)s 儲存了版本 %(current)d；"
        "為免蓋掉對方的內容，請重新下載後再填寫這一列。"
    ) % {
        "yours": version if version is not None else _("（空白）"), "who": who, "current": entry.version,
        "when": timezone.localtime(entry.updated_at).strftime("%Y-%m-%d %H:%M"),
    }


def _save(row: RowPlan, user):
    """The row through entry_save; what it refuses is reported at the row's columns."""
    try:
        row.saved = entry_save(
            obligation=row.obligation, period=row.period, user=user,
            data=EntryInput(
                values=row.values, narrative=row.narrative, shortfall_reason=row.shortfall_reason,
                expected_version=row.version if row.entry is not None else None,
            ),
        )
    except EntryValueError as error:
        for name, message in error.errors.items():
            row.fail(COLUMN_OF_FIELD.get(name, name), message)
    except EntryConflict as error:
        row.fail(VERSION, stale_message(error.current, row.version))
    except IntegrityError:
        # Someone created this entry after the file was read.
        row.fail(VERSION, _("在您上傳期間已有人填寫這筆資料；請重新下載後再填寫。"))
    except PermissionDenied as error:
        row.fail(KEY, str(error))
    except (WorkflowError, ValidationError) as error:
        row.fail(STATE, " ".join(error.messages))
