"""Exports of reporting data: each is a class with one contract (``render(fmt)``).

A table export describes its sheets once and gets XLSX, ODS and CSV with the same
content (numbers as numbers, formula-like text escaped; anticorruption/spreadsheets.py).
"""

from django.utils.translation import gettext_lazy as _

from anticorruption.spreadsheets import CSV_CONTENT_TYPE, ODS_CONTENT_TYPE, XLSX_CONTENT_TYPE, Sheet, render_csv, render_ods, render_xlsx
from measures.exporters import ExportFile

TABLE_FORMATS = {
    "xlsx": (XLSX_CONTENT_TYPE, render_xlsx),
    "ods": (ODS_CONTENT_TYPE, render_ods),
    "csv": (CSV_CONTENT_TYPE, lambda sheets: render_csv(sheets[0])),
}
FORMAT_LABELS = {"xlsx": _("Excel（XLSX）"), "ods": _("ODF 試算表（ODS）"), "csv": _("CSV")}


class TableExport:
    """Base: subclasses set ``identifier`` (the file name stem) and build ``sheets()``."""

    identifier = "table"

    def sheets(self) -> list[Sheet]:
        raise NotImplementedError

    def render(self, fmt: str) -> ExportFile:
        content_type, renderer = TABLE_FORMATS[fmt]
        return ExportFile(f"{self.identifier}.{fmt}", content_type, renderer(self.sheets()))
