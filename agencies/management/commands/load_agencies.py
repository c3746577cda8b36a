from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agencies.loaders import load_agencies
from anticorruption.datafiles import DataFileError


class Command(BaseCommand):
    help = "載入機關名冊（預設 fixtures/agencies.yaml）；可重複執行。"

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(settings.BASE_DIR / "fixtures" / "agencies.yaml"))

    def handle(self, *args, path, **options):
        try:
            stats = load_agencies(path)
        except DataFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{path}: {stats.summary()}")
