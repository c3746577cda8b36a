"""Shared fixtures: the reference data (both plan versions and the agency
registry) is loaded once into the test database and every test runs inside a
transaction that is rolled back."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(autouse=True)
def report_jobs_inline(settings, tmp_path):
    """Report jobs run inside the test that asks for them (no background thread), and
    their files go to a folder of the test's own."""
    settings.REPORT_JOBS_IN_THREAD = False
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_reference_data", stdout=io.StringIO())


@pytest.fixture
def reference_data(db):
    """The session's reference data; reloaded (inside this test's transaction) if a
    browser test, which empties the database when it ends, ran before."""
    from measures.models import PlanVersion

    if not PlanVersion.objects.filter(code="112").exists():
        call_command("load_reference_data", stdout=io.StringIO())


@pytest.fixture
def plan112(reference_data):
    from measures.models import PlanVersion

    return PlanVersion.objects.get(code="112")


@pytest.fixture
def plan101(reference_data):
    from measures.models import PlanVersion

    return PlanVersion.objects.get(code="101")


@pytest.fixture
def reader(reference_data, django_user_model):
    """An agency officer: plan pages are open to every user who holds a role."""
    from agencies.models import Agency, Role
    from agencies.services import role_grant

    user = django_user_model.objects.create_user(
        username="reader", password="reader-password-123", agency=Agency.objects.get(name="交通部")
    )
    role_grant(user=user, role=Role.OFFICER, granted_by=None)
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


def find_measure(plan, strategy_number, printed_number):
    from measures.models import Measure

    return Measure.objects.get(strategy__plan=plan, strategy__number=strategy_number, printed_number=printed_number)


@pytest.fixture
def artifacts_dir():
    """Screenshots and downloads that a person can look at after the run."""
    path = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last: their live server needs a transactional database, which is
    emptied when each ends, and the other tests read the session's reference data.
    (pytest may otherwise move them to the middle when it groups parametrized fixtures.)"""
    items.sort(key=lambda item: "browser" in item.nodeid.split("::")[0].split("/"))


def publish_year(year: int):
    """Publish ``year``'s target values through the yearly workflow (demo values derived from
    the year before), which also generates its obligations; the years before it first."""
    from measures.models import TargetYear
    from reporting.demo_targets import demo_aac_user, demo_target_year_ensure

    first = (TargetYear.objects.filter(state=TargetYear.State.PUBLISHED).order_by("-year").values_list("year", flat=True).first() or year) + 1
    aac = demo_aac_user()
    for each in range(first, year + 1):
        demo_target_year_ensure(year=each, aac=aac)
    return TargetYear.objects.get(year=year)
