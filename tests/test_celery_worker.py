"""A real Celery worker on Redis runs the daily reminders against the test database.

The other tests run tasks eagerly; this one proves the deployed path: the task is
found by name, the worker reads rows the web process committed, and writes rows the
web process then reads. It needs PostgreSQL (a second process must reach the test
database) and Redis; without them it is skipped with the reason printed, except in CI
(env CI set), where it fails instead.

The process-wide Celery app is never reconfigured: the test talks to the broker
through a separate client app, so every other test keeps running tasks eagerly.
"""

import datetime
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from anticorruption.celery import app as celery_app
from reporting.models import Entry, Notice, Obligation, ReportingPeriod
from reporting.models_notices import ReminderLog
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure

from .conftest import ROOT

REDIS_URL = os.environ.get("CELERY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
WORKER_TIMEOUT = 120  # seconds for the worker to start and run the task


def _missing_prerequisite() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "the worker test needs PostgreSQL (a worker process cannot share the SQLite test database); set DATABASE_URL"
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"Redis is unreachable at {REDIS_URL}: {error}"
    return None


@pytest.fixture(scope="module")
def worker_prerequisites(django_db_blocker):
    """Skip (or, in CI, fail) before any database set-up; afterwards put the reference
    data back, since a transactional test empties the database when it ends."""
    reason = _missing_prerequisite()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Celery worker test: {reason}")
        print(f"\nSKIPPED the Celery worker test: {reason}", file=sys.stderr)
        pytest.skip(reason)
    yield
    with django_db_blocker.unblock():
        call_command("load_reference_data", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def process_app_stays_eager():
    before = celery_app.conf.task_always_eager
    yield
    assert celery_app.conf.task_always_eager == before, "a test left the process-wide Celery app reconfigured"


def _worker_database_url() -> str:
    """The test database (test_…), as the worker's settings read it from DATABASE_URL."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def _start_worker(queue: str, log) -> subprocess.Popen:
    environment = {
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # report files land where this process reads them
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # tasks the worker sends itself (a batch's agencies) stay on this run's queue
        **{k: v for k, v in os.environ.items() if k not in ("MEDIA_ROOT", "CELERY_TASK_DEFAULT_QUEUE")},
        "DATABASE_URL": _worker_database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "DATABASE_CONN_MAX_AGE": "0",  # no connection outlives a task: the test database is dropped at the end
        "DEBUG": "true",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "anticorruption", "worker", "--pool=solo", "--loglevel=INFO",
        "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def _forget_queue(queue: str) -> None:
    """Remove what the broker kept for this run's private queue (and its exchange of the same name)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(queue)
    for key in client.scan_iter("_kombu.*"):
        if queue.encode() in key:
            client.delete(key)
        elif client.type(key) == b"set" and (members := [m for m in client.smembers(key) if queue.encode() in m]):
            client.srem(key, *members)


@dataclass
class RunningWorker:
    process: subprocess.Popen
    client: Celery
    queue: str
    log_path: str

    def send(self, task_name: str, *args):
        return self.client.signature(task_name, args=list(args)).apply_async(queue=self.queue)


@contextmanager
def running_worker():
    """A worker on a queue of this test's own, and a client app to send it tasks; both
    gone (and the queue forgotten) afterwards."""
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    client = Celery("worker-test-client", broker=REDIS_URL, backend=REDIS_URL)
    with tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="celery-worker-", delete=False) as log:
        worker = RunningWorker(_start_worker(queue, log), client, queue, log.name)
        try:
            yield worker
        finally:
            _stop_worker(worker.process)
            _forget_queue(queue)
            client.close()
    os.unlink(log.name)


def _wait(result, worker, log_path):
    deadline = time.monotonic() + WORKER_TIMEOUT
    while not result.ready():
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{open(log_path, encoding='utf-8', errors='replace').read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no result within {WORKER_TIMEOUT}s:\n{open(log_path, encoding='utf-8', errors='replace').read()}")
        time.sleep(0.2)
    return result.get(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_reminders_and_writes_notices(worker_prerequisites, plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    today = timezone.localdate()
    quarter = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    ReportingPeriod.objects.exclude(pk=quarter.pk).update(state=ReportingPeriod.State.LOCKED)
    ReportingPeriod.objects.filter(pk=quarter.pk).update(opens_on=today - datetime.timedelta(days=90), due_on=today + datetime.timedelta(days=3))
    officer = User.objects.create_user(username="w_officer", password="pw-123456789", email="w_officer@example.gov.tw", agency=Agency.objects.get(name="交通部"))
    role_grant(user=officer, role=Role.OFFICER, granted_by=None)
    settled = User.objects.create_user(username="w_settled", password="pw-123456789", agency=Agency.objects.get(name="經濟部"))
    role_grant(user=settled, role=Role.OFFICER, granted_by=None)
    Entry.objects.bulk_create(
        Entry(obligation=o, period=quarter, state=Entry.State.SUBMITTED, narrative="x")
        for o in Obligation.objects.filter(year=112, agency__name="經濟部", indicator__frequency="quarterly")
    )

    with running_worker() as worker:
        result = worker.send("reporting.tasks.send_reminders")
        stats = _wait(result, worker.process, worker.log_path)
        result.forget()

    # Rows the worker committed, read back here.
    assert stats["agencies"] == 1 and stats["notices"] == 1 and stats["emails"] == 1, stats
    notice = Notice.objects.get(recipient=officer)
    assert notice.kind == Notice.Kind.REMINDER and "交通部" in notice.title and "尚餘 3 天" in notice.body
    assert not Notice.objects.filter(recipient=settled).exists()
    assert ReminderLog.objects.filter(agency__name="交通部", period=quarter, sent_on=today).count() == 1
    assert worker.process.returncode is not None
    assert celery_app.conf.task_always_eager == settings.CELERY_TASK_ALWAYS_EAGER  # never pointed at the broker


# ------------------------------------------------------------------ report jobs


def _queued_job(kind: str, year: int = 112):
    """A job as the request leaves it, without sending its task (this test sends it to
    its own worker's queue instead of the process-wide eager app)."""
    from reporting.models_reports import ReportJob

    aac = User.objects.create_user(username=f"w_aac_{kind}", password="pw-123456789", agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=aac, role=Role.AAC_REVIEWER, granted_by=None)
    return ReportJob.objects.create(kind=kind, year=year, dedupe_key=ReportJob.key_for(kind=kind, year=year, quarter=4, draft=False), requested_by=aac)


def _wait_for_job(job, worker: RunningWorker, *, until=lambda job: not job.is_active):
    deadline = time.monotonic() + WORKER_TIMEOUT
    while True:
        job.refresh_from_db()
        if until(job):
            return job
        log = open(worker.log_path, encoding="utf-8", errors="replace").read
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode}:\n{log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"job still {job.state} after {WORKER_TIMEOUT}s:\n{log()}")
        time.sleep(0.05)


def _report_setup(plan):
    obligations_generate(year=112)
    periods_ensure(year=112)
    # Three agencies keep the per-agency batch short; the fan-out is the same for 2,000.
    Obligation.objects.filter(year=112).exclude(agency__name__in=["交通部", "經濟部", "法務部廉政署"]).delete()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_compiles_the_national_report_and_fans_out_the_agency_batch(worker_prerequisites, plan112):
    from reporting.models_reports import ReportJob, report_storage
    from reporting.services.reports import file_verified

    _report_setup(plan112)
    national, batch = _queued_job("national"), _queued_job("agency_batch")
    with running_worker() as worker:
        worker.send("reporting.tasks.run_report", national.pk)
        worker.send("reporting.tasks.run_report", batch.pk)
        _wait_for_job(national, worker)
        _wait_for_job(batch, worker)

    assert national.state == ReportJob.State.DONE, national.error
    assert sorted(national.files.values_list("format", flat=True)) == ["ods", "pdf", "xlsx"]
    assert all(file_verified(f) for f in national.files.all())
    assert batch.state == ReportJob.State.DONE, batch.error
    assert batch.items.filter(state="done").count() == 3
    assert batch.files.filter(agency__isnull=False).count() == 6 and batch.files.filter(format="zip").count() == 1
    assert report_storage.location.startswith(str(settings.MEDIA_ROOT))


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_leaves_a_failed_job_and_no_file(worker_prerequisites, plan112):
    from reporting.models_reports import ReportFile, ReportJob, report_storage
    from reporting.services import reports

    _report_setup(plan112)
    job = _queued_job("national")
    with running_worker() as worker:
        worker.send("reporting.tasks.run_report", job.pk)
        _wait_for_job(job, worker, until=lambda j: j.state == ReportJob.State.RUNNING)
        worker.process.kill()  # SIGKILL: no chance to clean up or to mark anything
        worker.process.wait(timeout=10)

    job.refresh_from_db()
    assert job.state == ReportJob.State.RUNNING  # nobody left to say otherwise …
    later = timezone.now() + datetime.timedelta(minutes=settings.REPORT_JOB_STALE_MINUTES + 1)
    assert reports.reports_fail_stale(now=later) == 1  # … until the beat's sweep
    job.refresh_from_db()
    assert job.state == ReportJob.State.FAILED and "工作程序中斷" in job.error
    assert not ReportFile.objects.filter(job=job).exists()
    leftovers = [name for _folder, _dirs, names in os.walk(report_storage.location) for name in names]
    assert leftovers == [], leftovers
