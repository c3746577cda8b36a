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
        **os.environ,
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

    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    client = Celery("worker-test-client", broker=REDIS_URL, backend=REDIS_URL)
    with tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="celery-worker-", delete=False) as log:
        worker = _start_worker(queue, log)
        try:
            result = client.signature("reporting.tasks.send_reminders").apply_async(queue=queue)
            stats = _wait(result, worker, log.name)
            result.forget()
        finally:
            _stop_worker(worker)
            _forget_queue(queue)
            client.close()
    os.unlink(log.name)

    # Rows the worker committed, read back here.
    assert stats["agencies"] == 1 and stats["notices"] == 1 and stats["emails"] == 1, stats
    notice = Notice.objects.get(recipient=officer)
    assert notice.kind == Notice.Kind.REMINDER and "交通部" in notice.title and "尚餘 3 天" in notice.body
    assert not Notice.objects.filter(recipient=settled).exists()
    assert ReminderLog.objects.filter(agency__name="交通部", period=quarter, sent_on=today).count() == 1
    assert worker.returncode is not None
    assert celery_app.conf.task_always_eager == settings.CELERY_TASK_ALWAYS_EAGER  # never pointed at the broker
