"""Write the same sheets as XLSX (openpyxl) and ODS (odfpy).

Exporters describe a workbook once — sheets, header rows, cells, merged
ranges, column widths, print setup — and get both formats with identical
content. Numbers stay numbers; text that a spreadsheet would run as a formula
is escaped.
"""

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from odf import number as odfnumber
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TextProperties,
)
from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import P
from openpyxl import Workbook as XlsxWorkbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_CONTENT_TYPE = "application/vnd.oasis.opendocument.spreadsheet"

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    """Keep a cell that starts like a formula from being evaluated (CSV/formula injection)."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


@dataclass
class Sheet:
    title: str
    columns: list[tuple[str, float]]  # (header, width in characters)
    rows: list[list] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, first col, last row, last col (0-based, data rows)
    heading_rows: set[int] = field(default_factory=set)  # data rows styled as section headings
    landscape: bool = True
    autofilter: bool = False
    number_formats: dict[int, str] = field(default_factory=dict)  # column → Excel number format

    def append(self, row: list) -> int:
        self.rows.append(row)
        return len(self.rows) - 1


def _cell_value(value):
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return value


# ------------------------------------------------------------------ XLSX


def render_xlsx(sheets: list[Sheet]) -> bytes:
    workbook = XlsxWorkbook()
    workbook.remove(workbook.active)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        for col, (header, width) in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=col, value=header)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="D9E2F3")
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            cell.border = border
            ws.column_dimensions[get_column_letter(col)].width = width
        for r, row in enumerate(sheet.rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=_cell_value(value))
                cell.alignment = wrap
                cell.border = border
                if (c - 1) in sheet.number_formats and isinstance(cell.value, (int, float)):
                    cell.number_format = sheet.number_formats[c - 1]
                if isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
                if (r - 2) in sheet.heading_rows:
                    cell.font = Font(bold=True)
                    cell.fill = PatternFill("solid", fgColor="F2F2F2")
        for first_row, first_col, last_row, last_col in sheet.merges:
            ws.merge_cells(start_row=first_row + 2, start_column=first_col + 1, end_row=last_row + 2, end_column=last_col + 1)
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.oddFooter.center.text = "第 &P 頁／共 &N 頁"
        if sheet.autofilter and sheet.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{len(sheet.rows) + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------- ODS


def _ods_styles(document):
    layout = PageLayout(name="A4Landscape")
    layout.addElement(PageLayoutProperties(pagewidth="29.7cm", pageheight="21cm", printorientation="landscape", margin="1cm", scaleto="100%"))
    document.automaticstyles.addElement(layout)
    portrait = PageLayout(name="A4Portrait")
    portrait.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm", printorientation="portrait", margin="1cm"))
    document.automaticstyles.addElement(portrait)
    masters = {}
    for name, page_layout in (("Landscape", layout), ("Portrait", portrait)):
        master = MasterPage(name=name, pagelayoutname=page_layout)
        document.masterstyles.addElement(master)
        masters[name] = master

    def cell_style(name, bold=False, background=None, datastyle=None):
        style = Style(name=name, family="table-cell", **({"datastylename": datastyle} if datastyle else {}))
        properties = {"wrapoption": "wrap", "verticalalign": "top", "border": "0.5pt solid #808080"}
        if background:
            properties["backgroundcolor"] = background
        style.addElement(TableCellProperties(**properties))
        if bold:
            style.addElement(TextProperties(fontweight="bold"))
        document.automaticstyles.addElement(style)
        return style

    integer_format = odfnumber.NumberStyle(name="IntegerFormat")
    integer_format.addElement(odfnumber.Number(decimalplaces="0", minintegerdigits="1", grouping="true"))
    document.automaticstyles.addElement(integer_format)
    decimal_format = odfnumber.NumberStyle(name="DecimalFormat")
    decimal_format.addElement(odfnumber.Number(decimalplaces="2", minintegerdigits="1", grouping="true"))
    document.automaticstyles.addElement(decimal_format)
    date_format = odfnumber.DateStyle(name="IsoDate")
    for element in (odfnumber.Year(style="long"), odfnumber.Text(text="-"), odfnumber.Month(style="long"), odfnumber.Text(text="-"), odfnumber.Day(style="long")):
        date_format.addElement(element)
    document.automaticstyles.addElement(date_format)
    header = cell_style("Header", bold=True, background="#D9E2F3")
    header.addElement(ParagraphProperties(textalign="center"))
    return {
        "masters": masters,
        "header": header,
        "body": cell_style("Body"),
        "heading": cell_style("Heading", bold=True, background="#F2F2F2"),
        "integer": cell_style("Integer", datastyle="IntegerFormat"),
        "decimal": cell_style("Decimal", datastyle="DecimalFormat"),
        "date": cell_style("Date", datastyle="IsoDate"),
    }


def _ods_cell(value, styles, style_name):
    if value is None or value == "":
        return TableCell(stylename=styles[style_name])
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        number = _cell_value(value)
        style = styles["integer"] if isinstance(number, int) else styles["decimal"]
        cell = TableCell(valuetype="float", value=number, stylename=style)
        cell.addElement(P(text=f"{number:,}" if isinstance(number, int) else f"{number:,.2f}"))
        return cell
    if isinstance(value, datetime.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=styles["date"])
        cell.addElement(P(text=value.isoformat()))
        return cell
    cell = TableCell(valuetype="string", stylename=styles[style_name])
    for line in escape_formula(str(value)).split("\n"):
        cell.addElement(P(text=line))
    return cell


def render_ods(sheets: list[Sheet]) -> bytes:
    document = OpenDocumentSpreadsheet()
    styles = _ods_styles(document)
    for index, sheet in enumerate(sheets):
        table_style = Style(name=f"Table{index}", family="table", masterpagename=styles["masters"]["Landscape" if sheet.landscape else "Portrait"])
        document.automaticstyles.addElement(table_style)
        table = Table(name=sheet.title[:31], stylename=table_style)
        for col, (_header, width) in enumerate(sheet.columns):
            column_style = Style(name=f"T{index}C{col}", family="table-column")
            column_style.addElement(TableColumnProperties(columnwidth=f"{width * 0.22:.2f}cm"))
            document.automaticstyles.addElement(column_style)
            table.addElement(TableColumn(stylename=column_style))
        header_rows = TableHeaderRows()  # repeated on every printed page
        header_row = TableRow()
        for header, _width in sheet.columns:
            cell = TableCell(valuetype="string", stylename=styles["header"])
            cell.addElement(P(text=header))
            header_row.addElement(cell)
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
            style_name = "heading" if r in sheet.heading_rows else "body"
            for c in range(len(sheet.columns)):
                if (r, c) in covered:
                    table_row.addElement(CoveredTableCell())
                    continue
                cell = _ods_cell(row[c] if c < len(row) else None, styles, style_name)
                if (r, c) in spans:
                    rows_spanned, columns_spanned = spans[(r, c)]
                    cell.setAttribute("numberrowsspanned", rows_spanned)
                    cell.setAttribute("numbercolumnsspanned", columns_spanned)
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
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
    value = _cell_value(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
