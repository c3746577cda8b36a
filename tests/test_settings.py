"""Deploy settings come from the environment; with DEBUG off, unsafe ones stop start-up."""

import os
import subprocess
import sys

import pytest

from .conftest import ROOT

SAFE_PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3v9-q2p8-z7x6-m5n4-b3c2-v1l0-j9h8-g7f6-d5s4-a3p2-o1i0-u9y8",
    "ALLOWED_HOSTS": "integrity.example.gov.tw",
    "DATABASE_URL": "postgres://portal@db.example.gov.tw/portal",
    "CELERY_BROKER_URL": "redis://redis.example.gov.tw:6379/0",
    "EMAIL_URL": "smtp+tls://mailer@mail.example.gov.tw:587",
}


def _start(overrides: dict, drop: tuple = ()):
    environment = {k: v for k, v in os.environ.items() if k not in SAFE_PRODUCTION}
    environment.update(overrides)
    for name in drop:
        environment.pop(name, None)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.TIME_ZONE, settings.LANGUAGE_CODE)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)


def test_demo_defaults_start_without_any_setting():
    result = _start({}, drop=tuple(SAFE_PRODUCTION))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "Asia/Taipei", "zh-hant"]


def test_production_starts_with_safe_settings():
    result = _start(SAFE_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", None, "SECRET_KEY is not set"),
        ("SECRET_KEY", "short", "SECRET_KEY is unsafe"),
        ("SECRET_KEY", "django-insecure-" + "x" * 60, "SECRET_KEY is unsafe"),
        ("ALLOWED_HOSTS", None, "ALLOWED_HOSTS is not set"),
        ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS must list host names"),
        ("DATABASE_URL", None, "DATABASE_URL is not set"),
        ("CELERY_BROKER_URL", None, "CELERY_BROKER_URL is not set"),
        ("EMAIL_URL", None, "EMAIL_URL is not set"),
    ],
)
def test_production_refuses_a_missing_or_unsafe_setting_and_names_it(name, value, message):
    overrides = dict(SAFE_PRODUCTION)
    drop = ()
    if value is None:
        drop = (name,)
    else:
        overrides[name] = value
    result = _start(overrides, drop=drop)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_demo_tasks_run_in_process_without_a_broker(settings):
    from anticorruption.celery import app

    if not os.environ.get("CELERY_BROKER_URL"):
        assert settings.CELERY_TASK_ALWAYS_EAGER
        assert app.conf.task_always_eager


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(client):
    from django.contrib.staticfiles import finders

    assert finders.find("img/favicon.svg")
    login = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in login and "img/favicon.svg" in login
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")


def test_the_readme_names_every_variable_bin_demo_reads():
    import re

    from .conftest import ROOT

    variables = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "bin" / "demo").read_text(encoding="utf-8")))
    assert "ADDRESS" in variables
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(variables) if f"`{name}" not in readme] == []
