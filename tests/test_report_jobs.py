"""Report jobs: requesting (and joining one under way), running, versions, drafts,
failures that leave no file, retries, runs whose worker died, the per-agency batch with
one agency failing and its rerun, and who may compile, publish and download.

Tasks run inline here (CELERY_TASK_ALWAYS_EAGER, no thread): the job has finished when
the request's on-commit callbacks have run. tests/test_celery_worker.py runs a report on
a real worker.
"""

import datetime
import hashlib
import os
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.models_reports import AgencyReportItem, ReportJob, report_storage
from reporting.services import obligations_generate, reports
from reporting.services.periods import periods_ensure

from .personas import make_personas

KEPT_AGENCIES = ["交通部", "經濟部", "法務部廉政署"]


@pytest.fixture
def year112(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    # Three agencies keep the per-agency batch quick; the national report still reads them all.
    Obligation.objects.filter(year=112).exclude(agency__name__in=KEPT_AGENCIES).delete()
    return plan112


@pytest.fixture
def people(year112):
    return make_personas()


def approved(agency_name, quantity=5):
    obligation = Obligation.objects.filter(year=112, agency__name=agency_name, indicator__frequency="quarterly").order_by("pk").first()
    period = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    return Entry.objects.create(
        obligation=obligation, period=period, state=Entry.State.APPROVED, quantity=quantity,
        submitted_at=timezone.make_aware(datetime.datetime(2023, 4, 3, 10)),
    )


def run(request_report, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        job, created = request_report(**kwargs)
    job.refresh_from_db()
    return job, created


def stored_files():
    root = report_storage.location
    return sorted(os.path.relpath(os.path.join(folder, name), root) for folder, _dirs, names in os.walk(root) for name in names)


def digest(report_file):
    with report_storage.open(report_file.file.name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# ------------------------------------------------------------------ national report


def test_a_national_report_runs_to_a_dated_version_with_checksummed_files(people, django_capture_on_commit_callbacks):
    approved("交通部")
    job, created = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    assert created and job.state == ReportJob.State.DONE and job.progress == 100 and job.version == 1
    assert not job.draft and job.data_as_of and job.finished_at and job.attempts == 1
    files = {f.format: f for f in job.files.all()}
    assert set(files) == {"pdf", "xlsx", "ods"}
    for report_file in files.values():
        assert report_file.size == report_storage.size(report_file.file.name)
        assert report_file.sha256 == digest(report_file)
        assert "民國112年度執行成果" in report_file.filename and "第1版" in report_file.filename
        assert timezone.localdate().strftime("%Y%m%d") in report_file.filename
    assert report_storage.open(files["pdf"].file.name, "rb").read(5) == b"%PDF-"
    assert not [name for name in stored_files() if ".part" in name]


def test_a_second_request_while_one_runs_joins_it(people, django_capture_on_commit_callbacks):
    first, created = reports.report_request(user=people.aac, kind="national", year=112)  # queued: its task not sent yet
    again, created_again = reports.report_request(user=people.admin, kind="national", year=112)
    assert created and not created_again and again.pk == first.pk
    assert ReportJob.objects.count() == 1
    # Another period is another report.
    other, created_other = reports.report_request(user=people.aac, kind="national", year=112, quarter=2)
    assert created_other and other.pk != first.pk


def test_each_run_is_a_new_version_and_earlier_files_stay_unchanged(people, django_capture_on_commit_callbacks):
    first, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    before = {f.pk: f.sha256 for f in first.files.all()}
    approved("經濟部", quantity=9)
    second, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    assert (first.version, second.version) == (1, 2)
    assert {f.pk: digest(f) for f in first.files.all()} == before
    assert all("第2版" in f.filename for f in second.files.all())


def test_unapproved_entries_allow_only_a_draft_that_cannot_be_published(people, django_capture_on_commit_callbacks):
    entry = approved("交通部")
    Entry.objects.filter(pk=entry.pk).update(state=Entry.State.SUBMITTED)
    with pytest.raises(reports.NotReady) as not_ready:
        reports.report_request(user=people.aac, kind="national", year=112)
    assert any("1 筆填報資料未經廉政署核定" in reason for reason in not_ready.value.reasons)
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112, draft=True)
    assert job.state == ReportJob.State.DONE and job.draft and job.draft_reasons
    assert all(f.filename.startswith("草稿_") for f in job.files.all())
    with pytest.raises(reports.ReportError, match="草稿不能發布"):
        reports.report_publish(user=people.aac, job=job)


def test_aac_issues_a_final_version_with_a_cut_off_that_lists_what_was_left_out_and_ndc_downloads_it(
    people, client, django_capture_on_commit_callbacks, artifacts_dir,
):
    import subprocess

    entry = approved("交通部")
    Entry.objects.filter(pk=entry.pk).update(state=Entry.State.SUBMITTED)
    client.force_login(people.aac)
    url = reverse("reports:request")
    # The cut-off needs a reason: refused without one, nothing queued, the choice kept.
    refused = client.post(url, {"kind": "national", "year": "112", "quarter": "4", "cutoff": "1", "cutoff_reason": " "})
    assert refused.status_code == 400 and "須填寫截止理由" in refused.content.decode() and not ReportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"kind": "national", "year": "112", "quarter": "4", "cutoff": "1", "cutoff_reason": "行政院訂定之陳報期限已到"})
    job = ReportJob.objects.get()
    assert done.status_code == 302 and job.state == ReportJob.State.DONE and not job.draft
    assert job.cutoff_reason == "行政院訂定之陳報期限已到" and job.requested_by == people.aac
    files = {f.format: f for f in job.files.all()}
    assert not files["pdf"].filename.startswith("草稿_")
    pdf = artifacts_dir / "national-report-cutoff.pdf"
    pdf.write_bytes(report_storage.open(files["pdf"].file.name, "rb").read())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "截止理由：行政院訂定之陳報期限已到" in text and "附錄二" in text and "交通部" in text and "已送出" in text
    from openpyxl import load_workbook

    workbook = load_workbook(report_storage.open(files["xlsx"].file.name, "rb"))
    left_out = workbook["截止時未核定"]
    rows = [[cell for cell in row] for row in left_out.iter_rows(values_only=True)]
    assert any(row[0] == "交通部" and "已送出" in str(row[4]) for row in rows)
    # Final, so AAC can publish it; NDC then sees and downloads the published version.
    reports.report_publish(user=people.aac, job=job)
    client.force_login(people.ndc)
    listing = client.get(reverse("reports:list")).content.decode()
    assert reverse("reports:detail", args=[job.pk]) in listing
    detail = client.get(reverse("reports:detail", args=[job.pk])).content.decode()
    assert 'id="cutoff-note"' in detail and "行政院訂定之陳報期限已到" in detail
    download = client.get(reverse("reports:download", args=[files["pdf"].pk]))
    assert download.status_code == 200


def test_a_cut_off_applies_to_the_national_report_only(people):
    entry = approved("交通部")
    Entry.objects.filter(pk=entry.pk).update(state=Entry.State.SUBMITTED)
    with pytest.raises(reports.ReportError, match="只適用於全國彙整報告"):
        reports.report_request(user=people.aac, kind="agency_batch", year=112, cutoff_reason="期限已到")
    assert not ReportJob.objects.exists()


def test_a_year_without_a_plan_is_refused_with_the_reason(people):
    with pytest.raises(reports.ReportError, match="民國90年沒有適用"):
        reports.report_request(user=people.aac, kind="national", year=90)


def test_a_failing_run_records_why_and_leaves_no_file(people, django_capture_on_commit_callbacks, monkeypatch):
    from reporting.exporters import annual_sheets

    def broken(self, fmt):
        raise ValueError("試算表寫入失敗")

    monkeypatch.setattr(annual_sheets.NationalReportWorkbook, "render", broken)
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    assert job.state == ReportJob.State.FAILED and "試算表寫入失敗" in job.error and "請通知系統管理者" in job.error
    assert not job.files.exists() and stored_files() == []  # the PDF written before the fault is gone too


def test_a_transient_database_error_is_retried(people, django_capture_on_commit_callbacks, monkeypatch):
    from reporting.exporters import annual_pdf

    real = annual_pdf.NationalReportPdf.render
    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(self)

    monkeypatch.setattr(annual_pdf.NationalReportPdf, "render", flaky)
    monkeypatch.setattr("reporting.tasks.ReportTask.retry_backoff", False)
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    assert job.state == ReportJob.State.DONE and job.attempts == 2 and len(calls) == 2
    assert not [name for name in stored_files() if ".part" in name]


def test_a_run_whose_worker_died_fails_instead_of_running_forever(people, settings):
    job, _ = reports.report_request(user=people.aac, kind="national", year=112)
    long_ago = timezone.now() - datetime.timedelta(minutes=settings.REPORT_JOB_STALE_MINUTES + 1)
    ReportJob.objects.filter(pk=job.pk).update(state=ReportJob.State.RUNNING, heartbeat_at=long_ago, started_at=long_ago)
    part = report_storage.path(f"112/{job.pk}/pdf.part")  # what the dead worker had written
    os.makedirs(os.path.dirname(part))
    open(part, "wb").write(b"%PDF-1.7 half")
    fresh, _ = reports.report_request(user=people.aac, kind="national", year=112, quarter=3)
    ReportJob.objects.filter(pk=fresh.pk).update(state=ReportJob.State.RUNNING, heartbeat_at=timezone.now())

    assert reports.reports_fail_stale() == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.state == ReportJob.State.FAILED and "工作程序中斷" in job.error
    assert fresh.state == ReportJob.State.RUNNING  # still reporting progress
    assert not os.path.exists(part) and not job.files.exists()
    # The dead worker's message, redelivered later, finds the job finished and does nothing.
    reports.report_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ReportJob.State.FAILED and job.attempts == 0


# ------------------------------------------------------------------ per-agency batch


def test_the_agency_batch_with_one_failure_and_a_rerun_of_only_that_agency(people, django_capture_on_commit_callbacks, monkeypatch):
    from reporting.exporters import annual_pdf

    real = annual_pdf.AgencyReportPdf.render

    def fails_for_economy(self):
        if self.report.agency.name == "經濟部":
            raise ValueError("經濟部資料格式錯誤")
        return real(self)

    monkeypatch.setattr(annual_pdf.AgencyReportPdf, "render", fails_for_economy)
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="agency_batch", year=112)
    assert job.state == ReportJob.State.FAILED and "經濟部" in job.error and "1 個機關" in job.error
    items = {item.agency.name: item for item in job.items.select_related("agency")}
    assert set(items) == set(KEPT_AGENCIES)
    assert items["經濟部"].state == AgencyReportItem.State.FAILED and "資料格式錯誤" in items["經濟部"].error
    done_before = {f.pk: (f.sha256, f.created_at) for f in job.files.filter(agency__isnull=False)}
    assert len(done_before) == 4  # PDF and XLSX of the two that worked
    assert not job.files.filter(format="zip").exists()

    monkeypatch.setattr(annual_pdf.AgencyReportPdf, "render", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert reports.agency_batch_rerun_failed(user=people.aac, job=job) == 1
    job.refresh_from_db()
    assert job.state == ReportJob.State.DONE and job.version == 1 and job.error == ""
    assert {f.pk: (f.sha256, f.created_at) for f in job.files.filter(agency__name__in=["交通部", "法務部廉政署"])} == done_before
    assert job.items.get(agency__name="經濟部").attempts == 2 and job.items.get(agency__name="交通部").attempts == 1
    archive = job.files.get(format="zip")
    assert archive.sha256 == digest(archive)
    with zipfile.ZipFile(report_storage.path(archive.file.name)) as opened:
        names = opened.namelist()
    assert len(names) == 6 and any("經濟部" in name and name.endswith(".pdf") for name in names)


def test_rerun_is_only_for_a_batch_with_failures(people, django_capture_on_commit_callbacks):
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    with pytest.raises(reports.ReportError):
        reports.agency_batch_rerun_failed(user=people.aac, job=job)


# ------------------------------------------------------------------ permissions and pages


def test_only_aac_and_administrators_compile_and_publish(people, django_capture_on_commit_callbacks):
    for persona in (people.ndc, people.officer_a, people.reviewer):
        with pytest.raises(PermissionDenied):
            reports.report_request(user=persona, kind="national", year=112)
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.admin, kind="national", year=112)
    with pytest.raises(PermissionDenied):
        reports.report_publish(user=people.ndc, job=job)
    reports.report_publish(user=people.aac, job=job)
    with pytest.raises(reports.ReportError, match="已發布"):
        reports.report_publish(user=people.aac, job=job)


def _status(client, user, url):
    client.force_login(user)
    return client.get(url).status_code


def test_downloads_follow_role_publication_and_agency(client, people, django_capture_on_commit_callbacks):
    national, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    batch, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="agency_batch", year=112)
    national_pdf = reverse("reports:download", args=[national.files.get(format="pdf").pk])
    own = reverse("reports:download", args=[batch.files.get(agency=people.agency_a, format="pdf").pk])
    other = reverse("reports:download", args=[batch.files.get(agency=people.agency_b, format="xlsx").pk])
    zipped = reverse("reports:download", args=[batch.files.get(format="zip").pk])

    # Before publication: AAC only.
    assert [_status(client, u, national_pdf) for u in (people.aac, people.ndc, people.officer_a)] == [200, 404, 404]
    assert _status(client, people.officer_a, own) == 404
    reports.report_publish(user=people.aac, job=national)
    reports.report_publish(user=people.aac, job=batch)
    assert [_status(client, u, national_pdf) for u in (people.aac, people.ndc, people.officer_a, people.reviewer)] == [200, 200, 404, 404]
    assert [_status(client, u, own) for u in (people.officer_a, people.officer_b, people.ndc)] == [200, 404, 200]
    assert [_status(client, u, other) for u in (people.officer_a, people.officer_b)] == [404, 200]
    assert [_status(client, u, zipped) for u in (people.officer_a, people.ndc, people.aac)] == [404, 200, 200]

    client.force_login(people.officer_a)
    response = client.get(own)
    assert response["Content-Type"] == "application/pdf" and b"".join(response.streaming_content)[:5] == b"%PDF-"
    assert "attachment" in response["Content-Disposition"]
    listing = client.get(reverse("reports:list")).content.decode()
    assert own in listing and national_pdf not in listing and other not in listing
    detail = client.get(reverse("reports:detail", args=[batch.pk])).content.decode()
    assert own in detail and other not in detail and zipped not in detail
    assert client.get(reverse("reports:agency_files", args=[batch.pk])).status_code == 403


def test_a_damaged_file_is_never_offered(client, people, django_capture_on_commit_callbacks):
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    pdf = job.files.get(format="pdf")
    with open(report_storage.path(pdf.file.name), "r+b") as handle:
        handle.seek(20)
        handle.write(b"XXXX")
    client.force_login(people.aac)
    response = client.get(reverse("reports:download", args=[pdf.pk]))
    assert response.status_code == 404 and "已損毀" in response.content.decode()


def test_the_request_form_names_bad_input_and_offers_a_draft(client, people):
    client.force_login(people.aac)
    url = reverse("reports:request")
    response = client.post(url, {"kind": "national", "year": "abc", "quarter": "4"})
    assert response.status_code == 400 and "年度" in response.content.decode()
    response = client.post(url, {"kind": "national", "year": "112", "quarter": "9"})
    assert response.status_code == 400 and "季別「9」無效" in response.content.decode()
    entry = approved("交通部")
    Entry.objects.filter(pk=entry.pk).update(state=Entry.State.FORWARDED)
    response = client.post(url, {"kind": "national", "year": "112", "quarter": "4"})
    page = response.content.decode()
    assert response.status_code == 200 and "只能產製草稿" in page and 'name="draft" value="1"' in page
    assert 'value="112" selected' in page  # what was chosen is kept
    assert not ReportJob.objects.exists()


def test_the_job_page_shows_progress_and_the_status_feed(client, people):
    job, _ = reports.report_request(user=people.aac, kind="national", year=112)  # still queued
    client.force_login(people.aac)
    page = client.get(reverse("reports:detail", args=[job.pk])).content.decode()
    assert 'data-active="1"' in page and "您可以離開此頁" in page and "report-job.js" in page
    status = client.get(reverse("reports:status", args=[job.pk])).json()
    assert status["state"] == "queued" and status["active"] is True and status["progress"] == 0


def test_joining_a_running_report_through_the_page_says_so(client, people):
    client.force_login(people.aac)
    first = client.post(reverse("reports:request"), {"kind": "national", "year": "112", "quarter": "4"}, follow=True)
    second = client.post(reverse("reports:request"), {"kind": "national", "year": "112", "quarter": "4"}, follow=True)
    assert ReportJob.objects.count() == 1
    assert "已開始產製" in first.content.decode() and "已在產製中" in second.content.decode()


def test_the_report_benchmark_runs_and_prints_each_comparison(people):
    import io

    from django.core.management import call_command

    approved("交通部")
    out = io.StringIO()
    call_command("benchmark_reports", "--year", "112", "--runs", "1", "--agencies", "2", stdout=out)
    text = out.getvalue()
    assert "全國報告 PDF" in text and "WeasyPrint 直接產生相同 HTML" in text and "目標 ≤ 1.2×" in text
    assert "全國報告 XLSX" in text and "openpyxl 直接寫入相同儲存格" in text and "目標 ≤ 1.5×" in text
    assert "個別機關報告 PDF" in text and "目標 < 0.5 秒" in text


def test_a_finish_arriving_after_the_job_failed_records_nothing_and_removes_its_files(people):
    from reporting.services.reports import _finish, _write_part

    job, _ = reports.report_request(user=people.aac, kind="national", year=112)
    ReportJob.objects.filter(pk=job.pk).update(state=ReportJob.State.RUNNING, heartbeat_at=timezone.now())
    part = _write_part(job, None, "pdf", b"%PDF-1.7 late")
    reports.report_fail(job_id=job.pk, error="工作程序中斷")
    part = _write_part(job, None, "pdf", b"%PDF-1.7 late")  # a worker that did not know yet
    _finish(job, [part], data_as_of=timezone.now(), stem="late")
    job.refresh_from_db()
    assert job.state == ReportJob.State.FAILED and not job.files.exists() and stored_files() == []


def test_a_year_without_published_target_values_is_offered_as_a_draft_saying_so(people, plan112):
    from reporting.selectors.annual_report import report_readiness
    from reporting.services.target_setting import target_year_open

    assert report_readiness(year=112, quarter=4) == []
    reasons = report_readiness(year=113, quarter=4)
    assert reasons == ["民國113年尚未開放研訂目標值，目標值核定公布後才能填報及檢視達成情形。"]
    with pytest.raises(reports.ReportError, match="尚未開放研訂目標值"):
        reports.report_request(user=people.aac, kind="national", year=113, draft=True)
    # Once open, the reason names the lead agencies that have still to propose.
    target_year_open(plan=plan112, year=113, due_on=None, user=people.aac)
    reasons = report_readiness(year=113, quarter=4)
    assert len(reasons) == 1 and "研訂中" in reasons[0] and "法務部廉政署" in reasons[0]
    with pytest.raises(reports.ReportError, match="尚未送出提案的主辦機關"):
        reports.report_request(user=people.aac, kind="national", year=113, draft=True)
    assert not ReportJob.objects.filter(year=113).exists()


def test_a_batch_for_a_year_nobody_reports_fails_saying_so(people, plan112, django_capture_on_commit_callbacks):
    from measures.models import TargetYear

    TargetYear.objects.create(plan=plan112, year=113, state=TargetYear.State.PUBLISHED, published_at=timezone.now())  # no values, no obligations
    job, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="agency_batch", year=113, draft=True)
    assert job.state == ReportJob.State.FAILED
    assert job.error == "民國113年沒有任何機關有填報義務，無法產製各機關報告。"


def test_the_annex_totals_keep_each_period_once_and_belong_to_no_agency(people):
    from reporting.selectors.annual_report import national_report

    approved("交通部")
    report = national_report(year=112, quarter=4)
    total = report.completeness_total
    assert total.agency is None
    assert len(total.periods) == len(set(total.periods)) == ReportingPeriod.objects.filter(year=112).count()
    assert total.due == sum(counts.due for counts in report.completeness)
    assert {counts.agency.name for counts in report.completeness} == set(KEPT_AGENCIES)


def test_an_unknown_report_kind_is_named(client, people):
    client.force_login(people.aac)
    response = client.post(reverse("reports:request"), {"kind": "everything", "year": "112", "quarter": "4"})
    assert response.status_code == 400 and "不明的報告種類「everything」" in response.content.decode()
    assert not ReportJob.objects.exists()


def test_an_earlier_version_stays_downloadable_after_a_new_one(client, people, django_capture_on_commit_callbacks):
    first, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    second, _ = run(reports.report_request, django_capture_on_commit_callbacks, user=people.aac, kind="national", year=112)
    client.force_login(people.aac)
    for job in (first, second):
        pdf = job.files.get(format="pdf")
        response = client.get(reverse("reports:download", args=[pdf.pk]))
        assert response.status_code == 200 and f"第{job.version}版" in pdf.filename
        assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == pdf.sha256
    listing = client.get(reverse("reports:list")).content.decode()
    assert "第 1 版" in listing and "第 2 版" in listing
