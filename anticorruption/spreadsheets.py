"""Write the same sheets as XLSX (openpyxl) and ODS (odfpy).

Exporters describe a workbook once — sheets, an optional title block above the
header, header row, cells, merged ranges, column widths, number formats per
column or per cell, print setup — and get both formats with identical content.
Numbers stay numbers; text that a spreadsheet would run as a formula is escaped.
Both formats freeze the header, repeat it on every printed page and print A4,
fit to the page width.
"""

import datetime
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from odf import number as odfnumber
from odf.config import ConfigItem, ConfigItemMapEntry, ConfigItemMapIndexed, ConfigItemMapNamed, ConfigItemSet
from odf.namespaces import LOEXTNS
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TableRowProperties,
    TextProperties,
)
from odf.table import CoveredTableCell, DatabaseRange, DatabaseRanges, Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import P
from openpyxl import Workbook as XlsxWorkbook
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.page import PageMargins

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_CONTENT_TYPE = "application/vnd.oasis.opendocument.spreadsheet"

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"


def escape_formula(text: str) -> str:
    """Keep a cell that starts like a formula from being evaluated (CSV/formula injection)."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


@dataclass
class Sheet:
    title: str
    columns: list[tuple[str, float]]  # (header, width in characters)
    rows: list[list] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, first col, last row, last col (0-based, data rows)
    heading_rows: set[int] = field(default_factory=set)  # data rows styled as section headings (or totals)
    landscape: bool = True
    autofilter: bool = False
    number_formats: dict[int, str] = field(default_factory=dict)  # column → Excel number format
    title_lines: list[str] = field(default_factory=list)  # above the header, each across the table; the first in bold
    cell_formats: dict[tuple[int, int], str] = field(default_factory=dict)  # (data row, column) → format, over the column's

    def append(self, row: list) -> int:
        self.rows.append(row)
        return len(self.rows) - 1

    @property
    def header_row(self) -> int:
        """The header's row number in the file (1-based): below the title block."""
        return len(self.title_lines) + 1

    def number_format(self, row: int, column: int) -> str | None:
        return self.cell_formats.get((row, column)) or self.number_formats.get(column)


def cell_value(value):
    """What a cell holds: formula-like text escaped, a Decimal as int or float."""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return value


def _title_line_height(text: str, width: float) -> float | None:
    """Points for a wrapped title line, which neither format sizes by itself when merged."""
    lines = sum(max(1, -(-len(part) * 2 // max(int(width), 1))) for part in text.split("\n"))  # CJK: two columns a character
    return 16.0 * lines if lines > 1 else None


# ------------------------------------------------------------------ XLSX


class _XlsxStyles:
    """Each (role, number format) is registered with the workbook once, and cells share its
    style array. Assigning font, fill, border and alignment objects cell by cell makes
    openpyxl hash each object again, and copying the array per cell costs as much again:
    together they made large workbooks about 60 % slower than bare openpyxl. Sharing is
    safe because the workbook never leaves render_xlsx, so no cell's style is changed
    in place afterwards."""

    def __init__(self):
        thin = Side(style="thin", color="808080")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        wrap = Alignment(wrap_text=True, vertical="top")
        self.roles = {
            "header": {"font": Font(bold=True), "fill": PatternFill("solid", fgColor="D9E2F3"), "border": border,
                       "alignment": Alignment(wrap_text=True, vertical="center", horizontal="center")},
            "body": {"alignment": wrap, "border": border},
            "heading": {"alignment": wrap, "border": border, "font": Font(bold=True), "fill": PatternFill("solid", fgColor="F2F2F2")},
            "title": {"font": Font(bold=True, size=14), "alignment": Alignment(wrap_text=True, vertical="center")},
            "subtitle": {"alignment": Alignment(wrap_text=True, vertical="top")},
        }
        self.cache = {}

    def get(self, worksheet, role: str, number_format: str | None = None):
        key = (role, number_format)
        if key not in self.cache:
            scratch = XlsxCell(worksheet)  # never added to the sheet: only registers the style
            for name, value in self.roles[role].items():
                setattr(scratch, name, value)
            if number_format:
                scratch.number_format = number_format
            self.cache[key] = scratch._style
        return self.cache[key]


def _xlsx_merge(ws, first_row: int, first_col: int, last_row: int, last_col: int):
    """Merge a range, its covered cells keeping their own (shared) style, borders included,
    as Excel writes them. Worksheet.merge_cells would replace them and rebuild the edge
    borders one object at a time: a third of the time of a report with many merges."""
    for row in range(first_row, last_row + 1):
        for col in range(first_col, last_col + 1):
            if (row, col) != (first_row, first_col):
                ws.cell(row=row, column=col).value = None  # a covered cell shows nothing
    ws.merged_cells.add(MergedCellRange(ws, f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"))


def render_xlsx(sheets: list[Sheet]) -> bytes:
    workbook = XlsxWorkbook()
    workbook.remove(workbook.active)
    styles = _XlsxStyles()
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        width = len(sheet.columns)
        last_letter = get_column_letter(width)
        for number, line in enumerate(sheet.title_lines, start=1):
            role = "title" if number == 1 else "subtitle"
            ws.append([XlsxCell(ws, value=cell_value(line), style_array=styles.get(ws, role))])
            if width > 1:
                _xlsx_merge(ws, number, 1, number, width)
            height = _title_line_height(line, sum(w for _h, w in sheet.columns))
            if height:
                ws.row_dimensions[number].height = height
        header_style = styles.get(ws, "header")
        ws.append([XlsxCell(ws, value=cell_value(header), style_array=header_style) for header, _width in sheet.columns])
        for col, (_header, column_width) in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(col)].width = column_width
        first_data_row = sheet.header_row + 1
        numeric = (int, float)
        for r, row in enumerate(sheet.rows):
            role = "heading" if r in sheet.heading_rows else "body"
            plain = styles.get(ws, role)
            cells = []
            for c in range(width):
                value = cell_value(row[c]) if c < len(row) else None
                cell = XlsxCell(ws, value=value)
                if isinstance(value, numeric) and not isinstance(value, bool):
                    number_format = sheet.cell_formats.get((r, c)) or sheet.number_formats.get(c)
                    cell._style = styles.get(ws, role, number_format) if number_format else plain
                elif isinstance(value, datetime.date):
                    cell._style = styles.get(ws, role, DATE_FORMAT)
                else:
                    cell._style = plain
                cells.append(cell)
            ws.append(cells)
        for first_row, first_col, last_row, last_col in sheet.merges:
            _xlsx_merge(ws, first_row + first_data_row, first_col + 1, last_row + first_data_row, last_col + 1)
        ws.freeze_panes = f"A{first_data_row}"
        ws.print_title_rows = f"{sheet.header_row}:{sheet.header_row}"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.oddFooter.center.text = "第 &P 頁／共 &N 頁"
        if sheet.autofilter and sheet.rows:
            ws.auto_filter.ref = f"A{sheet.header_row}:{last_letter}{sheet.header_row + len(sheet.rows)}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------- ODS

_EXCEL_NUMBER = re.compile(r"^(#,##)?0(?:\.(0*)(#*))?$")


@dataclass(frozen=True)
class _OdsNumber:
    """The part of an Excel number format ODS needs: grouping and decimals."""

    grouping: bool
    min_decimals: int
    max_decimals: int

    @classmethod
    def parse(cls, number_format: str | None) -> "_OdsNumber | None":
        match = _EXCEL_NUMBER.match(number_format or "")
        if not match:
            return None
        fixed, optional = match.group(2) or "", match.group(3) or ""
        return cls(grouping=bool(match.group(1)), min_decimals=len(fixed), max_decimals=len(fixed) + len(optional))

    @property
    def name(self) -> str:
        return f"Number{'G' if self.grouping else ''}{self.min_decimals}x{self.max_decimals}"

    def text(self, number) -> str:
        text = f"{number:{',' if self.grouping else ''}.{self.max_decimals}f}"
        if self.max_decimals > self.min_decimals:
            whole, _point, decimals = text.partition(".")
            decimals = decimals.rstrip("0").ljust(self.min_decimals, "0")
            text = f"{whole}.{decimals}" if decimals else whole
        return text


_INTEGER = _OdsNumber(grouping=True, min_decimals=0, max_decimals=0)
_DECIMAL = _OdsNumber(grouping=True, min_decimals=2, max_decimals=2)


class _OdsStyles:
    """Page layouts, data styles and cell styles, each made once per document."""

    def __init__(self, document):
        self.document = document
        layout = PageLayout(name="A4Landscape")
        layout.addElement(self._fit_to_width(PageLayoutProperties(pagewidth="29.7cm", pageheight="21cm", printorientation="landscape", margin="1cm")))
        document.automaticstyles.addElement(layout)
        portrait = PageLayout(name="A4Portrait")
        portrait.addElement(self._fit_to_width(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm", printorientation="portrait", margin="1cm")))
        document.automaticstyles.addElement(portrait)
        self.masters = {}
        for name, page_layout in (("Landscape", layout), ("Portrait", portrait)):
            master = MasterPage(name=name, pagelayoutname=page_layout)
            document.masterstyles.addElement(master)
            self.masters[name] = master
        date_format = odfnumber.DateStyle(name="IsoDate")
        for element in (odfnumber.Year(style="long"), odfnumber.Text(text="-"), odfnumber.Month(style="long"), odfnumber.Text(text="-"), odfnumber.Day(style="long")):
            date_format.addElement(element)
        document.automaticstyles.addElement(date_format)
        self.data_styles = {"date": date_format}
        self.cells = {}
        self.row_heights = {}

    @staticmethod
    def _fit_to_width(properties):
        # One page wide, as many tall as needed (LibreOffice's extension; ODF 1.2 has no such setting).
        properties.setAttrNS(LOEXTNS, "scale-to-X", "1")
        properties.setAttrNS(LOEXTNS, "scale-to-Y", "0")
        return properties

    def data_style(self, number: _OdsNumber):
        if number.name not in self.data_styles:
            style = odfnumber.NumberStyle(name=number.name)
            style.addElement(odfnumber.Number(decimalplaces=str(number.max_decimals), minintegerdigits="1", grouping="true" if number.grouping else "false"))
            if number.max_decimals > number.min_decimals:  # optional decimals, as "#" in Excel
                style.firstChild.setAttrNS(LOEXTNS, "min-decimal-places", str(number.min_decimals))
            self.document.automaticstyles.addElement(style)
            self.data_styles[number.name] = style
        return self.data_styles[number.name]

    def cell(self, role: str, data_style_name: str | None = None):
        key = (role, data_style_name)
        if key not in self.cells:
            name = role.capitalize() + (data_style_name or "")
            data_style = self.data_styles[data_style_name] if data_style_name else None
            style = Style(name=name, family="table-cell", **({"datastylename": data_style} if data_style is not None else {}))
            if role in ("title", "subtitle"):
                style.addElement(TableCellProperties(wrapoption="wrap", verticalalign="top"))
            else:
                properties = {"wrapoption": "wrap", "verticalalign": "center" if role == "header" else "top", "border": "0.5pt solid #808080"}
                if role == "header":
                    properties["backgroundcolor"] = "#D9E2F3"
                elif role == "heading":
                    properties["backgroundcolor"] = "#F2F2F2"
                style.addElement(TableCellProperties(**properties))
            if role == "header":
                style.addElement(ParagraphProperties(textalign="center"))
            if role in ("header", "heading"):
                style.addElement(TextProperties(fontweight="bold"))
            elif role == "title":
                style.addElement(TextProperties(fontweight="bold", fontsize="14pt"))
            self.document.automaticstyles.addElement(style)
            self.cells[key] = style
        return self.cells[key]

    def row_height(self, points: float):
        if points not in self.row_heights:
            style = Style(name=f"Row{len(self.row_heights)}", family="table-row")
            style.addElement(TableRowProperties(rowheight=f"{points:.0f}pt", useoptimalrowheight="false"))
            self.document.automaticstyles.addElement(style)
            self.row_heights[points] = style
        return self.row_heights[points]


def _ods_cell(value, styles: _OdsStyles, role: str, number_format: str | None = None):
    if value is None or value == "":
        return TableCell(stylename=styles.cell(role))
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        number = cell_value(value)
        shape = _OdsNumber.parse(number_format) or (_INTEGER if isinstance(number, int) else _DECIMAL)
        styles.data_style(shape)
        cell = TableCell(valuetype="float", value=number, stylename=styles.cell(role, shape.name))
        cell.addElement(P(text=shape.text(number)))
        return cell
    if isinstance(value, datetime.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=styles.cell(role, "date"))
        cell.addElement(P(text=value.isoformat()))
        return cell
    cell = TableCell(valuetype="string", stylename=styles.cell(role))
    for line in escape_formula(str(value)).split("\n"):
        cell.addElement(P(text=line))
    return cell


def _ods_spanning_row(cell, width: int, height_style=None):
    row = TableRow(**({"stylename": height_style} if height_style is not None else {}))
    if width > 1:
        cell.setAttribute("numbercolumnsspanned", width)
    row.addElement(cell)
    for _index in range(width - 1):
        row.addElement(CoveredTableCell())
    return row


def _ods_range_address(title: str, first_row: int, last_row: int, width: int) -> str:
    quoted = "'" + title.replace("'", "''") + "'"
    return f"{quoted}.A{first_row}:{quoted}.{get_column_letter(width)}{last_row}"


def _ods_view_settings(document, sheets: list[Sheet]):
    """Freeze every sheet below its header (settings.xml, as LibreOffice writes it)."""
    tables = ConfigItemMapNamed(name="Tables")
    for sheet in sheets:
        frozen = sheet.header_row
        entry = ConfigItemMapEntry(name=sheet.title[:31])
        for name, kind, value in (
            ("HorizontalSplitMode", "short", "0"), ("VerticalSplitMode", "short", "2"),
            ("HorizontalSplitPosition", "int", "0"), ("VerticalSplitPosition", "int", str(frozen)),
            ("ActiveSplitRange", "short", "2"), ("PositionLeft", "int", "0"), ("PositionRight", "int", "0"),
            ("PositionTop", "int", "0"), ("PositionBottom", "int", str(frozen)),
        ):
            item = ConfigItem(name=name, type=kind)
            item.addText(value)
            entry.addElement(item)
        tables.addElement(entry)
    view = ConfigItemMapEntry()
    view_id = ConfigItem(name="ViewId", type="string")
    view_id.addText("view1")
    view.addElement(view_id)
    view.addElement(tables)
    views = ConfigItemMapIndexed(name="Views")
    views.addElement(view)
    settings = ConfigItemSet(name="ooo:view-settings")
    settings.addElement(views)
    document.settings.addElement(settings)


def render_ods(sheets: list[Sheet]) -> bytes:
    document = OpenDocumentSpreadsheet()
    styles = _OdsStyles(document)
    filters = []
    for index, sheet in enumerate(sheets):
        width = len(sheet.columns)
        table_style = Style(name=f"Table{index}", family="table", masterpagename=styles.masters["Landscape" if sheet.landscape else "Portrait"])
        document.automaticstyles.addElement(table_style)
        table = Table(name=sheet.title[:31], stylename=table_style)
        for col, (_header, column_width) in enumerate(sheet.columns):
            column_style = Style(name=f"T{index}C{col}", family="table-column")
            column_style.addElement(TableColumnProperties(columnwidth=f"{column_width * 0.22:.2f}cm"))
            document.automaticstyles.addElement(column_style)
            table.addElement(TableColumn(stylename=column_style))
        for number, line in enumerate(sheet.title_lines, start=1):
            cell = _ods_cell(line, styles, "title" if number == 1 else "subtitle")
            height = _title_line_height(line, sum(w for _h, w in sheet.columns))
            table.addElement(_ods_spanning_row(cell, width, styles.row_height(height) if height else None))
        header_rows = TableHeaderRows()  # repeated on every printed page
        header_row = TableRow()
        for header, _width in sheet.columns:
            header_row.addElement(_ods_cell(header, styles, "header"))
        header_rows.addElement(header_row)
        table.addElement(header_rows)
        spans = {(first_row, first_col): (last_row - first_row + 1, last_col - first_col + 1) for first_row, first_col, last_row, last_col in sheet.merges}
        covered = {
            (r, c)
            for first_row, first_col, last_row, last_col in sheet.merges
            for r in range(first_row, last_row + 1)
            for c in range(first_col, last_col + 1)
            if (r, c) != (first_row, first_col)
        }
        for r, row in enumerate(sheet.rows):
            table_row = TableRow()
            role = "heading" if r in sheet.heading_rows else "body"
            for c in range(width):
                if (r, c) in covered:
                    table_row.addElement(CoveredTableCell())
                    continue
                cell = _ods_cell(row[c] if c < len(row) else None, styles, role, sheet.number_format(r, c))
                if (r, c) in spans:
                    rows_spanned, columns_spanned = spans[(r, c)]
                    cell.setAttribute("numberrowsspanned", rows_spanned)
                    cell.setAttribute("numbercolumnsspanned", columns_spanned)
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
        if sheet.autofilter and sheet.rows:
            filters.append(DatabaseRange(
                name=f"__Anonymous_Sheet_DB__{index}", displayfilterbuttons="true",
                targetrangeaddress=_ods_range_address(sheet.title[:31], sheet.header_row, sheet.header_row + len(sheet.rows), width),
            ))
    if filters:  # after the tables, as the schema orders them
        ranges = DatabaseRanges()
        for database_range in filters:
            ranges.addElement(database_range)
        document.spreadsheet.addElement(ranges)
    _ods_view_settings(document, sheets)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------- CSV

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def render_csv(sheet: Sheet) -> bytes:
    """One sheet as CSV: numbers written plainly (no thousands separators), text escaped
    against formula injection, UTF-8 with a BOM so that Excel reads Chinese correctly."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_formula(str(header)) for header, _width in sheet.columns])
    for row in sheet.rows:
        writer.writerow(["" if value is None else _csv_value(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(value):
    value = cell_value(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------ reading back


class SheetFileError(Exception):
    """The file as a whole cannot be read as an entry sheet."""


@dataclass(frozen=True)
class Cell:
    value: object = None
    formula: bool = False

    @property
    def blank(self) -> bool:
        return not self.formula and (self.value is None or (isinstance(self.value, str) and not self.value.strip()))


BLANK = Cell()


def sheet_format(content: bytes) -> str:
    """'xlsx' or 'ods', told by the file's content rather than its name."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_CONTENT_TYPE.encode():
                return "ods"
            if "[Content_Types].xml" in names:
                return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError):
        pass
    raise SheetFileError(_("無法讀取這個檔案：請上傳由本系統下載的 .xlsx 或 .ods 試算表（不支援舊版 .xls 與 CSV）。"))


def _read_xlsx(content: bytes, sheet_title: str, max_columns: int) -> list[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula reads as a formula (and is refused), not as its cached result.
        workbook = load_workbook(io.BytesIO(content), data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise SheetFileError(_("無法讀取這個 Excel 檔案（%(error)s）。") % {"error": error.__class__.__name__}) from None
    if not workbook.worksheets:
        raise SheetFileError(_("檔案中沒有工作表。"))
    worksheet = workbook[sheet_title] if sheet_title in workbook.sheetnames else workbook.worksheets[0]
    rows = []
    # From A1 whatever is empty: iter_rows would otherwise start at the first row and column holding data.
    for number, row in enumerate(worksheet.iter_rows(min_row=1, min_col=1, max_col=min(worksheet.max_column, max_columns)), start=1):
        cells = [_xlsx_read_cell(cell) for cell in row]
        if any(not cell.blank for cell in cells):
            rows.append((number, cells))
    return rows


def _xlsx_read_cell(cell) -> Cell:
    value = cell.value
    if value is None:
        return BLANK  # most cells of a sheet; a formula's value is its text, never None
    if cell.data_type == "f":
        return Cell(formula=True)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = Decimal(str(value))
        if "%" in (cell.number_format or ""):
            value *= 100  # 85% typed in a percentage cell is stored as 0.85
    return Cell(value)


def _read_ods(content: bytes, sheet_title: str, max_rows: int, max_columns: int) -> list[tuple[int, list[Cell]]]:
    from odf.opendocument import load
    from odf.table import Table

    try:
        document = load(io.BytesIO(content))
        tables = document.spreadsheet.getElementsByType(Table)
    except Exception as error:  # odfpy and the XML parser raise many kinds on a damaged file
        raise SheetFileError(_("無法讀取這個 ODS 檔案（%(error)s）。") % {"error": error.__class__.__name__}) from None
    if not tables:
        raise SheetFileError(_("檔案中沒有工作表。"))
    table = next((t for t in tables if t.getAttribute("name") == sheet_title), tables[0])
    return _read_ods_table(table, max_rows, max_columns)


def _read_ods_table(table, max_rows: int, max_columns: int) -> list[tuple[int, list[Cell]]]:
    from odf.namespaces import TABLENS
    from odf.table import TableRow

    cell_names = {(TABLENS, "table-cell"), (TABLENS, "covered-table-cell")}
    rows, number = [], 0
    for row in table.getElementsByType(TableRow):
        cells = []
        for element in row.childNodes:
            if element.qname in cell_names and len(cells) < max_columns:
                repeat = int(element.getAttribute("numbercolumnsrepeated") or 1)
                cells.extend([_ods_read_cell(element)] * min(repeat, max_columns - len(cells)))
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        if any(not cell.blank for cell in cells):
            for _copy in range(min(repeat, max_rows + 2)):
                number += 1
                rows.append((number, cells))
        else:
            number += repeat  # LibreOffice writes the empty rows below the data as one repeated row
    return rows


def _ods_read_cell(element) -> Cell:
    from odf import teletype
    from odf.namespaces import TEXTNS

    if element.getAttribute("formula"):
        return Cell(formula=True)
    kind = element.getAttribute("valuetype")
    try:
        if kind in ("float", "currency"):
            return Cell(Decimal(element.getAttribute("value")))
        if kind == "percentage":
            return Cell(Decimal(element.getAttribute("value")) * 100)
        if kind == "date":
            text = element.getAttribute("datevalue")
            return Cell(datetime.datetime.fromisoformat(text).date() if "T" in text else datetime.date.fromisoformat(text))
    except (InvalidOperation, TypeError, ValueError):
        pass  # read what the cell shows instead
    if element.getAttribute("stringvalue"):
        return Cell(element.getAttribute("stringvalue"))
    # Paragraphs directly in the cell: a comment's paragraphs are not its content.
    lines = [teletype.extractText(node) for node in element.childNodes if node.qname == (TEXTNS, "p")]
    return Cell("\n".join(lines) if lines else None)


def read_rows(content: bytes, *, sheet_title: str, max_rows: int, max_columns: int) -> list[tuple[int, list[Cell]]]:
    """The non-empty rows of one sheet (by title, else the first), each with its row number;
    columns beyond ``max_columns`` and repeated rows beyond ``max_rows`` are not read."""
    if sheet_format(content) == "xlsx":
        return _read_xlsx(content, sheet_title, max_columns)
    return _read_ods(content, sheet_title, max_rows, max_columns)


def sheet_names(content: bytes) -> list[str]:
    """The titles of a workbook's sheets, in order."""
    if sheet_format(content) == "xlsx":
        from openpyxl import load_workbook

        try:
            return load_workbook(io.BytesIO(content), read_only=True).sheetnames
        except Exception as error:  # openpyxl raises many kinds on a damaged file
            raise SheetFileError(_("無法讀取這個 Excel 檔案（%(error)s）。") % {"error": error.__class__.__name__}) from None
    from odf.opendocument import load

    try:
        return [table.getAttribute("name") for table in load(io.BytesIO(content)).spreadsheet.getElementsByType(Table)]
    except Exception as error:  # odfpy and the XML parser raise many kinds on a damaged file
        raise SheetFileError(_("無法讀取這個 ODS 檔案（%(error)s）。") % {"error": error.__class__.__name__}) from None


def read_workbook_rows(content: bytes, *, max_rows: int, max_columns: int, sheets: Callable[[str], bool] | None = None) -> dict[str, list[tuple[int, list[Cell]]]]:
    """Every sheet's non-empty rows, by title, opening the file once (openpyxl's read-only
    mode: a whole plan workbook is read in a fraction of a full load). ``sheets``, if given,
    says by title which sheets to read; the others are not parsed at all."""
    wanted = sheets or (lambda title: True)
    if sheet_format(content) == "ods":
        from odf.opendocument import load

        try:
            tables = load(io.BytesIO(content)).spreadsheet.getElementsByType(Table)
        except Exception as error:  # odfpy and the XML parser raise many kinds on a damaged file
            raise SheetFileError(_("無法讀取這個 ODS 檔案（%(error)s）。") % {"error": error.__class__.__name__}) from None
        # The document is parsed once for all its sheets.
        return {table.getAttribute("name"): _read_ods_table(table, max_rows, max_columns) for table in tables if wanted(table.getAttribute("name"))}
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise SheetFileError(_("無法讀取這個 Excel 檔案（%(error)s）。") % {"error": error.__class__.__name__}) from None
    result = {}
    for worksheet in workbook.worksheets:
        if not wanted(worksheet.title):
            continue
        rows = []
        for number, row in enumerate(worksheet.iter_rows(min_row=1, min_col=1, max_col=max_columns), start=1):
            if number > max_rows:
                break
            cells = [_xlsx_read_cell(cell) for cell in row]
            if any(cell is not BLANK and not cell.blank for cell in cells):
                rows.append((number, cells))
        result[worksheet.title] = rows
    workbook.close()
    return result
