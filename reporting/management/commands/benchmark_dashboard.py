"""Prints the national dashboard's server time beside the single raw SQL aggregate that
computes the same figures, measured in the same run (the machines are shared and noisy,
so only the ratio means anything). Goal: within 2× of the raw SQL.

    manage.py generate_history --agencies 2000 --years 10   # once, on a scratch database
    manage.py benchmark_dashboard --year 121 --quarter 4
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from agencies.models import Role, User
from reporting.management.benchmarking import interleaved_medians
from reporting.models import Entry, Obligation
from reporting.selectors.completeness import completeness, periods_ending_in
from reporting.selectors.figures import indicator_figures, periods_up_to

# Every figure the page shows, in one statement: per indicator the approved totals, the
# ratio's numerator and denominator, the entries and agencies behind them, and for
# "latest status" indicators each agency's latest entry, combined as the selector does;
# and the quarter's reporting counts behind the reporting and on-time rates (items due,
# submitted, submitted on time, still owed past the due date).
RAW_SQL = """
WITH counted AS (
    SELECT o.indicator_id, o.agency_id, p.number, e.quantity, e.numerator, e.denominator, e.milestone, e.grade, i.aggregation
    FROM reporting_entry e
    JOIN reporting_obligation o ON o.id = e.obligation_id
    JOIN reporting_reportingperiod p ON p.id = e.period_id
    JOIN measures_indicator i ON i.id = o.indicator_id
    WHERE o.year = %(year)s AND e.state = 'approved' AND e.period_id IN ({periods})
), latest AS (
    SELECT indicator_id, agency_id, quantity, milestone, grade,
           ROW_NUMBER() OVER (PARTITION BY indicator_id, agency_id ORDER BY number DESC) AS rank
    FROM counted
    WHERE aggregation = 'latest' AND (quantity IS NOT NULL OR milestone <> '' OR grade <> '')
), figures AS (
    SELECT c.indicator_id, SUM(c.quantity) AS quantity,
           SUM(CASE WHEN c.numerator IS NOT NULL AND c.denominator IS NOT NULL THEN c.numerator END) AS numerator,
           SUM(CASE WHEN c.numerator IS NOT NULL AND c.denominator IS NOT NULL THEN c.denominator END) AS denominator,
           COUNT(*) AS entries, COUNT(DISTINCT c.agency_id) AS agencies,
           (SELECT SUM(l.quantity) FROM latest l WHERE l.indicator_id = c.indicator_id AND l.rank = 1) AS level,
           (SELECT MIN(CASE l.milestone WHEN 'not_started' THEN 0 WHEN 'in_progress' THEN 1 WHEN 'done' THEN 2 END)
              FROM latest l WHERE l.indicator_id = c.indicator_id AND l.rank = 1 AND l.milestone <> '') AS milestone,
           (SELECT MAX(l.grade) FROM latest l WHERE l.indicator_id = c.indicator_id AND l.rank = 1 AND l.grade <> '') AS grade
    FROM counted c
    GROUP BY c.indicator_id
), quarter_periods AS (
    SELECT id, frequency, due_on FROM reporting_reportingperiod WHERE id IN ({quarter_periods})
), due AS (
    SELECT COUNT(*) AS due, COUNT(*) FILTER (WHERE p.due_on < %(today)s) AS due_passed
    FROM reporting_obligation o
    JOIN measures_indicator i ON i.id = o.indicator_id
    JOIN quarter_periods p ON p.frequency = i.frequency
    WHERE o.year = %(year)s
), sent AS (
    SELECT COUNT(*) AS submitted,
           COUNT(*) FILTER (WHERE {local_submitted_date} <= p.due_on) AS on_time,
           COUNT(*) FILTER (WHERE p.due_on < %(today)s) AS submitted_past_due
    FROM reporting_entry e
    JOIN reporting_obligation o ON o.id = e.obligation_id
    JOIN quarter_periods p ON p.id = e.period_id
    WHERE o.year = %(year)s AND e.state IN ('submitted', 'forwarded', 'approved')
)
SELECT figures.*, due.due, due.due_passed - sent.submitted_past_due AS overdue, sent.submitted, sent.on_time
FROM figures CROSS JOIN due CROSS JOIN sent
"""
# The submission's calendar date in Taiwan (UTC+8 all year, no daylight saving).
LOCAL_SUBMITTED_DATE = {
    "postgresql": "(e.submitted_at AT TIME ZONE 'Asia/Taipei')::date",
    "sqlite": "date(e.submitted_at, '+8 hours')",
}


class Command(BaseCommand):
    help = "量測全國儀表板伺服器時間，並與同一輪中計算相同數值的單一原生 SQL 比較。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="民國年度（預設：最近有填報義務的年度）")
        parser.add_argument("--quarter", type=int, default=4, choices=[1, 2, 3, 4])
        parser.add_argument("--runs", type=int, default=7)

    def handle(self, *args, year, quarter, runs, **options):
        year = year or Obligation.objects.order_by("-year").values_list("year", flat=True).first()
        if year is None:
            raise CommandError("沒有填報義務資料；請先執行 generate_history。")
        periods = periods_up_to(year=year, quarter=quarter)
        if not periods:
            raise CommandError(f"民國{year}年沒有填報期間。")
        user = User.objects.filter(role_grants__role=Role.AAC_REVIEWER, role_grants__revoked_at__isnull=True).first()
        if user is None and settings.DEBUG:
            from agencies.demo import demo_users_ensure

            demo_users_ensure()  # a scratch database: the demo's AAC reviewer will do
            user = User.objects.filter(role_grants__role=Role.AAC_REVIEWER, role_grants__revoked_at__isnull=True).first()
        if user is None:
            raise CommandError("需要一位廉政署審查人帳號（setup_demo 會建立 aac）。")
        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(user)
        url = f"/dashboard/?year={year}&quarter={quarter}"
        today = timezone.localdate()
        sql = RAW_SQL.format(
            periods=", ".join(str(p.pk) for p in periods),
            quarter_periods=", ".join(str(p.pk) for p in periods_ending_in(year=year, quarter=quarter)) or "NULL",
            local_submitted_date=LOCAL_SUBMITTED_DATE[connection.vendor],
        )

        def page():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def raw():
            with connection.cursor() as cursor:
                cursor.execute(sql, {"year": year, "today": today})
                return cursor.fetchall()

        page()  # warm caches and connections once
        _check_agreement(raw(), year=year, quarter=quarter, today=today)
        page_seconds, raw_seconds = interleaved_medians(runs, page, raw)
        entries = Entry.objects.filter(obligation__year=year).count()
        page_ms, raw_ms = page_seconds * 1000, raw_seconds * 1000
        self.stdout.write(f"資料庫：{connection.vendor}；民國{year}年第{quarter}季；該年度填報資料 {entries:,} 筆；全部 {Entry.objects.count():,} 筆")
        self.stdout.write(f"全國儀表板（整頁，伺服器端）中位數 {page_ms:.1f} ms")
        self.stdout.write(f"原生 SQL 彙總（頁面上的全部數值：指標數值與填報率、準時率）中位數 {raw_ms:.1f} ms")
        self.stdout.write(f"倍數 {page_ms / raw_ms:.2f}×（目標 ≤ 2×）")


def _check_agreement(rows, *, year, quarter, today):
    """The baseline must compute what the page shows, or the comparison means nothing."""
    figures = indicator_figures(year=year, quarter=quarter)
    counts = completeness(year=year, quarter=quarter, today=today)
    for row in rows:
        indicator_id, quantity, numerator, denominator, entries, agencies, *_latest, due, overdue, submitted, on_time = row
        figure = figures.get(indicator_id)
        totals = (figure.entries, figure.agencies) if figure else (0, 0)
        if totals != (entries, agencies) or (figure.kind == "ratio" and (figure.numerator, figure.denominator) != (numerator, denominator)):
            raise CommandError(f"原生 SQL 與儀表板的指標 {indicator_id} 數值不一致，比較無效。")
    if rows and (rows[0][-4:] != (counts.due, counts.overdue, counts.submitted, counts.on_time)):
        raise CommandError("原生 SQL 與儀表板的填報完成統計不一致，比較無效。")

