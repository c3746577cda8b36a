from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from measures.plan_import import PlanImportError, plan_import


class Command(BaseCommand):
    help = "匯入 export_plan 匯出的方案檔（JSON、XLSX 或 ODS）：先列出與資料庫的差異，再全部套用或全部不套用。加 --dry-run 只列差異。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="方案檔路徑，例如 plan-112.json")
        parser.add_argument("--dry-run", action="store_true", help="只列出差異，不寫入")
        parser.add_argument("--plan-version", dest="expected", help="檔案須屬於此版本代碼（例如 112），否則拒絕")

    def handle(self, *args, path, dry_run, expected, **options):
        file = Path(path)
        if file.suffix.lower() not in (".json", ".xlsx", ".ods"):
            raise CommandError(f"{path}：請匯入 export_plan 匯出的 JSON、XLSX 或 ODS 檔。")
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}：無法讀取檔案（{error.strerror}）。") from None
        try:
            result = plan_import(content=content, filename=str(file), apply=not dry_run, expected_code=expected)
        except PlanImportError as error:
            raise CommandError("\n".join(f"{path}: {where}：{what}" if where else f"{path}: {what}" for where, what in error.problems)) from None
        diff = result.diff
        if diff.new_version:
            self.stdout.write(f"新版本「{diff.code}」")
        for change in diff.changes:
            line = f"{change.kind_label} {change.what} {change.where}"
            if change.before:
                line += f"\n    前：{change.before}"
            if change.after:
                line += f"\n    後：{change.after}"
            self.stdout.write(line)
        summary = f"新增 {diff.count('added')}、修改 {diff.count('changed')}、移除 {diff.count('removed')} 項"
        if diff.is_empty:
            self.stdout.write("與資料庫內容相同，沒有需要變更之處。")
        elif dry_run:
            self.stdout.write(f"（試算，未寫入）{summary}")
        else:
            self.stdout.write(self.style.SUCCESS(f"已套用：{summary}"))
