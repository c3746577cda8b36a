from pathlib import Path

import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from measures.models import PlanVersion


def plan_files(folder: Path) -> list[tuple[int, str, Path]]:
    """Every plan file of the folder (plan-*.yaml), oldest version first: (first year, code, path).

    A new version is a new file; no code names them.
    """
    found = []
    for path in sorted(folder.glob("plan-*.yaml")):
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        try:
            found.append((int(data["first_year"]), str(data["code"]), path))
        except (KeyError, TypeError, ValueError):
            raise CommandError(f"{path}：缺少 code 或 first_year，無法判斷版本順序。") from None
    return sorted(found)


class Command(BaseCommand):
    help = (
        "載入機關名冊及 fixtures/ 內所有方案檔（plan-*.yaml，依起始年度由舊到新）；可重複執行。"
        "已在資料庫中的版本不再重新載入，之後新增的年度目標值、修正、沿革與現行版本都不會被改動（要重新載入單一版本請用 load_plan）。"
    )

    def handle(self, *args, **options):
        fixtures = settings.BASE_DIR / "fixtures"
        call_command("load_agencies", str(fixtures / "agencies.yaml"), stdout=self.stdout)
        known = set(PlanVersion.objects.values_list("code", flat=True))
        for _first_year, code, path in plan_files(fixtures):
            if code in known:
                self.stdout.write(f"{path}: 版本 {code} 已載入，略過。")
                continue
            call_command("load_plan", str(path), stdout=self.stdout)
