from django.core.management.base import BaseCommand, CommandError

from anticorruption.datafiles import DataFileError
from measures.loaders import load_plan


class Command(BaseCommand):
    help = "載入方案資料檔（fixtures/plan-*.yaml）；可重複執行，不會產生重複資料。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")

    def handle(self, *args, paths, **options):
        for path in paths:
            try:
                plan, stats = load_plan(path)
            except DataFileError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"{path}: {plan}：{stats.summary()}")
