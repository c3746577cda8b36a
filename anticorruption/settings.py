"""Settings for the portal.

Every value that differs between a laptop demo and production comes from the
environment (see README, "Production configuration"). The defaults run the demo:
SQLite, tasks executed in-process, e-mail printed to the console. With DEBUG
off, start-up refuses settings that are missing or unsafe and names them.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Only ever used with DEBUG on; production must set its own (checked below).
DEMO_SECRET_KEY = "demo-only-secret-key-not-for-production-use-000000000000000"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEMO_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
if "DATABASE_URL" not in env.ENVIRON:
    (BASE_DIR / "var").mkdir(exist_ok=True)  # the demo database's folder, absent in a fresh clone
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Dashboards and reports sort a year's entries (some 100,000 rows at full scale) to
    # count distinct agencies; PostgreSQL's 4 MB default spills that sort to disk.
    work_mem = env.str("DATABASE_WORK_MEM", default="32MB")
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c work_mem={work_mem}".strip()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "django_filters",
    "anticorruption.apps.AxesConfig",
    "agencies",
    "measures",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view opts out explicitly.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # A signed-in user without any role sees one page that says so, nothing else.
    "agencies.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "anticorruption.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "measures.context_processors.plan_versions",
                "reporting.context_processors.notices",
            ],
            "builtins": ["measures.templatetags.plan_extras"],
        },
    },
]

WSGI_APPLICATION = "anticorruption.wsgi.application"

AUTH_USER_MODEL = "agencies.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out username/address pairs first
    "django.contrib.auth.backends.ModelBackend",
]

# Lockout after repeated failures for the same username from the same address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Source strings are written in Traditional Chinese (the portal's first
# language); other languages get catalogues in locale/.
LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", _("繁體中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")  # private: never served as files
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
EVIDENCE_MAX_FILES = env.int("EVIDENCE_MAX_FILES", default=20)
REMINDER_DAYS_BEFORE = env.int("REMINDER_DAYS_BEFORE", default=3)
# A period this many days past its due date is locked automatically (reminders for it stop),
# announced to AAC this many days before.
PERIOD_LOCK_AFTER_DAYS = env.int("PERIOD_LOCK_AFTER_DAYS", default=180)
PERIOD_LOCK_NOTICE_DAYS = env.int("PERIOD_LOCK_NOTICE_DAYS", default=14)
# The portal's address for links in e-mail sent by tasks, which have no request.
PORTAL_URL = env.str("PORTAL_URL", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# E-mail: console output by default; e.g. EMAIL_URL=smtp+tls://user:pass@mail.example.gov.tw:587
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="廉政行動方案管考系統 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: without a broker, tasks run in-process so the demo needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A killed worker's report task goes back to the queue (with CELERY_TASK_ACKS_LATE).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# Beat: reminders for periods due soon or overdue, every morning (CELERY_TIMEZONE is Asia/Taipei).
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "send-reminders": {"task": "reporting.tasks.send_reminders", "schedule": crontab(hour=8, minute=0)},
    "send-target-reminders": {"task": "reporting.tasks.send_target_reminders", "schedule": crontab(hour=8, minute=5)},
    "lock-stale-periods": {"task": "reporting.tasks.lock_stale_periods", "schedule": crontab(hour=7, minute=30)},
    "send-unreachable-agencies": {"task": "reporting.tasks.send_unreachable_agencies", "schedule": crontab(hour=8, minute=10, day_of_week="mon")},
    # Report jobs whose worker died fail visibly instead of "running" forever.
    "fail-stale-reports": {"task": "reporting.tasks.fail_stale_reports", "schedule": crontab(minute="*/5")},
}

# Report jobs: a running job that reports no progress for this long is declared failed.
REPORT_JOB_STALE_MINUTES = env.int("REPORT_JOB_STALE_MINUTES", default=15)
# Without a broker (the demo) report jobs run in a thread of the web process, so the
# page returns at once and shows progress; tests run them inline.
REPORT_JOBS_IN_THREAD = env.bool("REPORT_JOBS_IN_THREAD", default=True)

# Sessions end after this many idle seconds: every request pushes the expiry on.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every successful sign-in at INFO, WeasyPrint every step of every
    # PDF (thousands of lines for a per-agency batch); their warnings stay visible.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_CONTENT_TYPE_NOSNIFF = True


def production_setting_problems() -> list[str]:
    """What stops a DEBUG-off start: each problem names the variable to fix."""
    problems = []
    if "SECRET_KEY" not in env.ENVIRON:
        problems.append("SECRET_KEY is not set")
    elif SECRET_KEY == DEMO_SECRET_KEY or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 5 or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY is unsafe (use at least 50 random characters)")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is not set")
    elif "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must list host names, not '*'")
    if "DATABASE_URL" not in env.ENVIRON:
        problems.append("DATABASE_URL is not set (the SQLite default is for the demo only)")
    if not CELERY_BROKER_URL:
        problems.append("CELERY_BROKER_URL is not set (tasks would run inside web requests)")
    if "EMAIL_URL" not in env.ENVIRON:
        problems.append("EMAIL_URL is not set (password-reset and reminder e-mail would go nowhere)")
    return problems


if not DEBUG and (problems := production_setting_problems()):
    raise ImproperlyConfigured("DEBUG is off and the environment is not safe to run: " + "; ".join(problems) + ".")
