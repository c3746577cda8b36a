import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agencies.demo import generated_agencies_ensure
from agencies.models import Agency
from measures.years import parse_roc_year
from reporting.demo import demo_entries_ensure
from measures.models import PlanVersion, TargetYear
from reporting.demo_targets import demo_aac_user, demo_target_year_ensure
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure
from reporting.values import EntryValueError, parse_date


class Command(BaseCommand):
    help = (
        "產生多年度的模擬填報資料（規模測試與示範用；僅限 DEBUG 模式或加 --force），例如："
        "generate_history --agencies 2000 --years 10"
    )

    def add_arguments(self, parser):
        parser.add_argument("--agencies", help="以產生的機關補足到此總數；0 表示不新增機關")
        parser.add_argument("--years", help="產生幾個年度")
        parser.add_argument("--first-year", default="112", help="第一個民國年度（預設 112）")
        parser.add_argument("--seed", default="112", help="亂數種子，相同種子產生相同數值（預設 112）")
        parser.add_argument("--until", help="只產生在此日期以前結束的期間，例如 2025-12-31 或 114/12/31（預設全部期間）")
        parser.add_argument("--force", action="store_true", help="非 DEBUG 模式仍執行（會在資料庫寫入虛構的填報資料）")

    def handle(self, *args, agencies, years, first_year, seed, until, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("generate_history 會寫入虛構的填報資料，只能在 DEBUG 模式使用；確定要在此資料庫執行請加 --force。")
        agencies = _count(agencies, "--agencies", "機關總數", minimum=0)
        years = _count(years, "--years", "年度數", minimum=1, maximum=100)
        seed = _count(seed, "--seed", "亂數種子", minimum=0)
        try:
            first_year = parse_roc_year(first_year)
        except ValueError as error:
            raise CommandError(f"--first-year：{error}") from None
        try:
            until = parse_date(until, field="until") if until else None
        except EntryValueError as error:
            raise CommandError(f"--until：{error.errors['until']}") from None
        roc_years = list(range(first_year, first_year + years))
        plan = PlanVersion.objects.filter(status=PlanVersion.Status.IN_FORCE).first()
        for year in roc_years:  # refuse before writing anything
            published = TargetYear.objects.filter(year=year, state=TargetYear.State.PUBLISHED).exists()
            if not published and (plan is None or plan.first_year > year or (plan.last_year and plan.last_year < year)):
                raise CommandError(f"民國{year}年沒有適用的現行方案版本，無法產生目標值。")

        started = time.monotonic()
        if agencies:
            step = time.monotonic()
            added = generated_agencies_ensure(total=agencies, seed=seed)
            self.stdout.write(f"機關：新增 {added:,} 個，共 {Agency.objects.count():,} 個（{time.monotonic() - step:.1f} 秒）")
        aac = demo_aac_user()
        for year in roc_years:
            step = time.monotonic()
            # Years after the plan's own are set through the yearly workflow with demo values.
            demo_target_year_ensure(year=year, aac=aac, plan=plan)
            stats = obligations_generate(year=year)
            periods_ensure(year=year)
            self.stdout.write(
                f"民國{year}年填報義務：新增 {stats.created:,}、更新 {stats.updated:,}、刪除 {stats.deleted:,}（{time.monotonic() - step:.1f} 秒）"
            )
        step = time.monotonic()
        created = demo_entries_ensure(years=roc_years, seed=seed, until=until)
        self.stdout.write(
            f"民國{roc_years[0]}–{roc_years[-1]}年模擬填報資料：新增 {created:,} 筆（{time.monotonic() - step:.1f} 秒）"
        )
        self.stdout.write(self.style.SUCCESS(f"完成，共 {time.monotonic() - started:.1f} 秒。"))


def _count(raw, option: str, label: str, *, minimum: int, maximum: int | None = None) -> int:
    """A whole number from the command line, with the zh-Hant message argparse cannot give."""
    if raw is None or str(raw).strip() == "":
        raise CommandError(f"請以 {option} 指定{label}。")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise CommandError(f"{option}：「{raw}」不是整數。") from None
    if value < minimum:
        raise CommandError(f"{option}：{label}不可小於 {minimum}（收到 {value}）。")
    if maximum is not None and value > maximum:
        raise CommandError(f"{option}：{label}不可大於 {maximum}（收到 {value}）。")
    return value
