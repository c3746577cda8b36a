"""Prints, in one run: the national report's PDF time beside bare WeasyPrint rendering
the same HTML (goal: within 1.2×), its XLSX time beside bare openpyxl writing the same
cells (goal: within 1.5×), and one per-agency PDF's time (goal: under 0.5 s). The
machines are shared and noisy, so each pair is measured interleaved in the same run.

    manage.py generate_history --agencies 2000 --years 10   # once, on a scratch database
    manage.py benchmark_reports --year 115
"""

import statistics
import time

import weasyprint
from django.core.management.base import BaseCommand, CommandError

from reporting.exporters.annual_pdf import AgencyReportPdf, NationalReportPdf
from reporting.exporters.annual_sheets import NationalReportWorkbook, bare_openpyxl_xlsx
from reporting.management.benchmarking import interleaved_medians, timed
from reporting.models import Obligation
from reporting.selectors.annual_report import agencies_reporting, agency_detail_rows, agency_report, national_report
from reporting.services import ObligationError


class Command(BaseCommand):
    help = "量測年度報告的 PDF 與 XLSX 產製時間，並與同一輪中直接使用 WeasyPrint、openpyxl 產生相同內容的時間比較。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="民國年度（預設：最近有填報義務的年度）")
        parser.add_argument("--quarter", type=int, default=4, choices=[1, 2, 3, 4])
        parser.add_argument("--runs", type=int, default=3, help="全國報告每種量測的次數（取中位數）")
        parser.add_argument("--agencies", type=int, default=20, help="量測幾個機關的個別報告 PDF")

    def handle(self, *args, year, quarter, runs, agencies, **options):
        year = year or Obligation.objects.order_by("-year").values_list("year", flat=True).first()
        if year is None:
            raise CommandError("沒有填報義務資料；請先執行 generate_history。")
        try:
            started = time.perf_counter()
            report = national_report(year=year, quarter=quarter)
            details = agency_detail_rows(year=year, quarter=quarter)
        except ObligationError as error:
            raise CommandError(str(error)) from None
        read = time.perf_counter() - started
        self.stdout.write(
            f"民國{year}年第{quarter}季：{len(report.rows)} 項目標值、{len(report.completeness):,} 個機關、"
            f"機關明細 {len(details):,} 列；讀取資料 {read:.2f} 秒"
        )

        pdf = NationalReportPdf(report)
        html = pdf.html()
        ours, bare = _warm_then_time(runs, lambda: pdf.render(), lambda: weasyprint.HTML(string=html).write_pdf())
        pages = len(weasyprint.HTML(string=html).render().pages)
        self._pair("全國報告 PDF", f"{pages} 頁", ours, bare, goal=1.2, bare_label="WeasyPrint 直接產生相同 HTML")

        workbook = NationalReportWorkbook(report, details)
        sheets = workbook.sheets()
        cells = sum(len(sheet.rows) * len(sheet.columns) for sheet in sheets)
        ours, bare = _warm_then_time(runs, lambda: workbook.render("xlsx"), lambda: bare_openpyxl_xlsx(sheets))
        self._pair("全國報告 XLSX", f"{cells:,} 格", ours, bare, goal=1.5, bare_label="openpyxl 直接寫入相同儲存格")

        chosen = list(agencies_reporting(year=year)[:agencies])
        AgencyReportPdf(agency_report(agency=chosen[0], year=year, quarter=quarter)).render()  # fonts loaded once per process
        times = [timed(lambda: AgencyReportPdf(agency_report(agency=agency, year=year, quarter=quarter)).render()) for agency in chosen]
        median, worst = statistics.median(times), max(times)
        verdict = "達成" if median < 0.5 else "未達成"
        self.stdout.write(
            f"個別機關報告 PDF（含讀取資料）：{len(times)} 個機關，中位數 {median:.3f} 秒、最慢 {worst:.3f} 秒"
            f"（目標 < 0.5 秒，{verdict}）；2,000 個機關以 2 個工作程序約 {median * 2000 / 2 / 60:.1f} 分鐘"
        )

    def _pair(self, label, size, ours, bare, *, goal, bare_label):
        ratio = ours / bare
        verdict = "達成" if ratio <= goal else "未達成"
        self.stdout.write(
            f"{label}（{size}）：本系統中位數 {ours:.2f} 秒；{bare_label} {bare:.2f} 秒；倍數 {ratio:.2f}×（目標 ≤ {goal}×，{verdict}）"
        )


def _warm_then_time(runs, ours, bare) -> tuple[float, float]:
    ours(), bare()  # fonts, templates and caches loaded once
    return interleaved_medians(runs, ours, bare)
