import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from measures.lineage import LineageError, read_lineage_file
from measures.plan_import import PlanImportError, plan_import


class Command(BaseCommand):
    help = (
        "匯入 export_plan 匯出的方案檔（JSON、XLSX 或 ODS）：先列出與資料庫的差異，再全部套用或全部不套用。加 --dry-run 只列差異。"
        "新版本與前一版本的沿革對應（哪一項延續哪一項）依編號與文字自動建議並套用，或以 --lineage 對應檔指定。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="方案檔路徑，例如 plan-112.json")
        parser.add_argument("--dry-run", action="store_true", help="只列出差異，不寫入")
        parser.add_argument("--plan-version", dest="expected", help="檔案須屬於此版本代碼（例如 112），否則拒絕")
        parser.add_argument("--lineage", dest="lineage_path", help="沿革對應檔（JSON 或 YAML，格式同 --write-lineage 寫出的檔案），取代自動建議的對應")
        parser.add_argument("--write-lineage", dest="lineage_out", help="把採用的沿革對應寫成此檔（JSON），可修改後以 --lineage 再匯入")

    def handle(self, *args, path, dry_run, expected, lineage_path, lineage_out, **options):
        file = Path(path)
        if file.suffix.lower() not in (".json", ".xlsx", ".ods"):
            raise CommandError(f"{path}：請匯入 export_plan 匯出的 JSON、XLSX 或 ODS 檔。")
        content = self._read(file)
        choices = None
        if lineage_path:
            try:
                choices = read_lineage_file(self._read(Path(lineage_path)), name=lineage_path)
            except LineageError as error:
                raise CommandError("\n".join(f"{where}：{what}" for where, what in error.problems)) from None
        try:
            result = plan_import(content=content, filename=str(file), apply=not dry_run, expected_code=expected, lineage=choices)
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
        if result.lineage is not None:
            self._write_lineage(result)
            if lineage_out:
                Path(lineage_out).write_text(json.dumps(result.lineage.as_file(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
                self.stdout.write(f"沿革對應已寫入 {lineage_out}")
        summary = f"新增 {diff.count('added')}、修改 {diff.count('changed')}、移除 {diff.count('removed')} 項"
        if result.lineage_added or result.lineage_removed:
            summary += f"；沿革對應新增 {result.lineage_added}、移除 {result.lineage_removed} 筆"
        if diff.is_empty and not (result.lineage_added or result.lineage_removed):
            self.stdout.write("與資料庫內容相同，沒有需要變更之處。")
        elif dry_run:
            self.stdout.write(f"（試算，未寫入）{summary}")
        else:
            self.stdout.write(self.style.SUCCESS(f"已套用：{summary}"))

    def _read(self, file: Path) -> bytes:
        try:
            return file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}：無法讀取檔案（{error.strerror}）。") from None

    def _write_lineage(self, result):
        proposal = result.lineage
        self.stdout.write(f"沿革對應（與「{proposal.previous}」）：")
        for link in [*proposal.measures, *proposal.indicators]:
            if link.predecessor is None:
                self.stdout.write(f"  {link.item.reference} 新增（無延續）")
            else:
                reworded = "，文字修正" if link.reworded else ""
                self.stdout.write(f"  {link.item.reference} ← {link.predecessor.reference}（{link.basis_label}{reworded}）")
        for item in [*proposal.dropped_measures(), *proposal.dropped_indicators()]:
            self.stdout.write(f"  {item.reference} 不再延續")
