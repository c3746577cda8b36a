from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# Older versions first, so the version in force is loaded last.
PLAN_FILES = ["plan-101.yaml", "plan-112.yaml"]


class Command(BaseCommand):
    help = "載入機關名冊及所有方案版本（fixtures/）；可重複執行。"

    def handle(self, *args, **options):
        fixtures = settings.BASE_DIR / "fixtures"
        call_command("load_agencies", str(fixtures / "agencies.yaml"), stdout=self.stdout)
        call_command("load_plan", *[str(fixtures / name) for name in PLAN_FILES], stdout=self.stdout)
