from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from measures.exporters import EXPORTERS
from measures.models import PlanVersion


class Command(BaseCommand):
    help = "匯出方案版本為 XLSX、ODS 或 JSON，例如：export_plan 112 --format ods --output plan-112.ods"

    def add_arguments(self, parser):
        parser.add_argument("code", help="版本代碼，例如 112")
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="xlsx")
        parser.add_argument("--output", help="輸出檔案路徑（預設為目前目錄下的 plan-<代碼>.<格式>）")

    def handle(self, *args, code, format, output, **options):
        plan = PlanVersion.objects.filter(code=code).first()
        if plan is None:
            known = "、".join(PlanVersion.objects.values_list("code", flat=True)) or "（尚未載入任何版本）"
            raise CommandError(f"找不到版本「{code}」。現有版本：{known}")
        export = EXPORTERS[format].render(plan)
        path = Path(output or export.filename)
        path.write_bytes(export.content)
        self.stdout.write(f"{path}（{len(export.content):,} bytes）")
