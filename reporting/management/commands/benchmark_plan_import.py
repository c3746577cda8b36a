"""Import preview and apply of the whole plan with three years of values, beside a bare
openpyxl read of the same file, timed alternately in one run (goal: at most 3×); the
database queries of one preview and one apply are counted apart from the timing."""

import gc
import io
import itertools
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from openpyxl import load_workbook

from anticorruption.startup import freeze_loaded_heap
from measures.exporters import EXPORTERS
from measures.models import PlanVersion, TargetYear
from measures.plan_import import plan_import

from ...demo_targets import demo_aac_user, demo_target_year_ensure
from ..benchmarking import interleaved_medians

GOAL = 3.0


class _Rollback(Exception):
    pass


def bare_read(content: bytes) -> int:
    """The fastest correct read of every cell: openpyxl's read-only mode, values only."""
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    cells = sum(1 for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for _value in row)
    workbook.close()
    return cells


class Command(BaseCommand):
    help = "匯入方案檔的效能：三個年度目標值的整份方案，預覽及套用與單純以 openpyxl 讀取同一檔案比較（目標 3 倍以內）。"

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5, help="交替量測次數（取中位數）")
        parser.add_argument("--plan", default="112", help="版本代碼")

    def handle(self, *args, runs, plan, **options):
        version = PlanVersion.objects.filter(code=plan).first()
        if version is None:
            raise CommandError(f"找不到版本「{plan}」。")
        freeze_loaded_heap()  # as anticorruption/wsgi.py does once the web process has loaded Django
        try:
            with transaction.atomic():  # the years made for the measurement are rolled back
                self._measure(version, runs)
                raise _Rollback
        except _Rollback:
            pass
        finally:
            gc.unfreeze()  # a calling process (the test suite) is left as it was

    def _measure(self, plan, runs):
        published = sorted(TargetYear.objects.filter(plan=plan, state=TargetYear.State.PUBLISHED).values_list("year", flat=True))
        aac = demo_aac_user()
        year = published[-1]
        while len(published) < 3:
            year += 1
            demo_target_year_ensure(year=year, aac=aac, plan=plan)
            published.append(year)
        content = EXPORTERS["xlsx"].render(plan).content
        cells = bare_read(content)
        self.stdout.write(f"檔案：{len(content):,} bytes，{cells:,} 個儲存格，民國{'、'.join(map(str, published))}年目標值")
        edited = _with_one_measure_reworded(plan, content)
        files = itertools.cycle([edited, content])  # each apply of "changed" then really changes something
        imports = {
            "預覽": lambda: plan_import(content=content, filename="plan.xlsx", apply=False),
            "套用": lambda: plan_import(content=content, filename="plan.xlsx", apply=True),
            "套用（改寫一項執行措施）": lambda: plan_import(content=next(files), filename="plan.xlsx", apply=True),
        }
        for label, run in imports.items():
            queries = count_queries(run)
            ours, baseline = interleaved_medians(runs, run, lambda: bare_read(content))
            ratio = ours / baseline
            verdict = "達成" if ratio <= GOAL else "未達成"
            self.stdout.write(
                f"{label}：{ours * 1000:,.0f} ms（資料庫查詢 {queries:,} 次）；openpyxl 讀取（唯讀模式）：{baseline * 1000:,.0f} ms；{ratio:.2f} 倍（目標 ≤ {GOAL:g} 倍，{verdict}）"
            )
        self.stdout.write("基準：openpyxl 唯讀模式（read_only、values_only）逐格讀取同一檔案，不經資料庫。")


def _with_one_measure_reworded(plan, content: bytes) -> bytes:
    """The same workbook with one measure's text changed in its machine-readable tree."""
    from measures.exporters import MACHINE_CHUNK, MACHINE_MARK, MACHINE_SHEET

    tree = json.loads(EXPORTERS["json"].render(plan).content)
    tree["plan"]["strategies"][0]["measures"][0]["text"] += "（修正）"
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook[MACHINE_SHEET]
    text = json.dumps(tree, ensure_ascii=False)
    for row in sheet.iter_rows(min_row=2):
        row[1].value = None
    for number, start in enumerate(range(0, len(text), MACHINE_CHUNK), start=2):
        sheet.cell(row=number, column=2, value=MACHINE_MARK + text[start:start + MACHINE_CHUNK])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def count_queries(function) -> int:
    """The queries one call sends to the database (savepoints included)."""
    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        function()
    return count
