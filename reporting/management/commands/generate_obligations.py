from django.core.management.base import BaseCommand, CommandError

from measures.years import parse_roc_year
from reporting.services import ObligationError, obligations_generate
from reporting.services.periods import periods_ensure


class Command(BaseCommand):
    help = "依方案的辦理機關產生（或更新）某年度的填報義務及填報期間，例如：generate_obligations 112"

    def add_arguments(self, parser):
        parser.add_argument("year", help="民國年度，例如 112 或 民國112年")

    def handle(self, *args, year, **options):
        try:
            roc_year = parse_roc_year(year)
            stats = obligations_generate(year=roc_year)
            periods_ensure(year=roc_year)
        except (ValueError, ObligationError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"民國{roc_year}年填報義務：新增 {stats.created}、更新 {stats.updated}、刪除 {stats.deleted}")
