import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agencies.demo import DEMO_PASSWORD, DEMO_USERS, demo_users_ensure, generated_agencies_ensure
from agencies.models import Agency, Role
from agencies.services import demo_admin_ensure
from reporting.demo import demo_entries_ensure, demo_published_report, demo_stale_periods_lock
from reporting.demo_targets import current_roc_year, demo_aac_user, demo_target_year_ensure

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "demo-admin-112"


class Command(BaseCommand):
    help = "示範環境：建立資料表、載入方案與機關、產生填報義務，並建立各角色示範帳號（僅限 DEBUG 模式）。"

    def add_arguments(self, parser):
        parser.add_argument("--agencies", type=int, default=0, help="以產生的機關補足到此數量（規模測試用，例如 2000）")

    def handle(self, *args, agencies, **options):
        if not settings.DEBUG:
            raise CommandError("setup_demo 只能在 DEBUG 模式使用：正式環境不可建立固定密碼的帳號。")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_reference_data", stdout=self.stdout)
        if agencies:
            added = generated_agencies_ensure(total=agencies)
            self.stdout.write(f"產生機關 {added} 個")
        call_command("generate_obligations", "112", stdout=self.stdout)
        logins = demo_users_ensure()
        # 113 up to this year, each set through the yearly workflow with values derived from 112's.
        years = list(range(113, current_roc_year() + 1))
        aac = demo_aac_user()
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # one line per in-process notice task otherwise
        for year in years:
            demo_target_year_ensure(year=year, aac=aac)
        if years:
            self.stdout.write(f"民國113–{years[-1]}年目標值：依年度研訂流程建立示範數值（由112年推算，非正式核定數值）")
        # Figures for the dashboards up to today; the demo officers' agencies are left
        # empty so that signing in as an officer still shows items to fill in.
        officer_agencies = [agency for _username, agency, role, _oversees in DEMO_USERS if role == Role.OFFICER]
        spare = Agency.objects.filter(name__in=officer_agencies).values_list("pk", flat=True)
        created = demo_entries_ensure(years=[112, *years], until=timezone.localdate(), spare_agency_ids=list(spare))
        self.stdout.write(f"模擬填報資料：新增 {created:,} 筆（{'、'.join(officer_agencies)}留待示範填報人填寫）")
        locked = demo_stale_periods_lock(today=timezone.localdate())
        self.stdout.write(f"已鎖定截止逾 {settings.PERIOD_LOCK_AFTER_DAYS} 天的填報期間 {locked} 個（如同每日作業）")
        if report := demo_published_report(aac=aac, year=current_roc_year() - 1):
            self.stdout.write(f"已發布示範年度報告：{report}（以截止點產製的正式版，供國發會評核人下載）")
        demo_admin_ensure(username=DEMO_ADMIN_USERNAME, password=DEMO_ADMIN_PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"示範管理者帳號：{DEMO_ADMIN_USERNAME}　密碼：{DEMO_ADMIN_PASSWORD}"))
        for username, agency, role in logins:
            self.stdout.write(f"{role}：{username}　密碼：{DEMO_PASSWORD}（{agency}）")
