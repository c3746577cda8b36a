"""Who may open the annual report pages. Which files each persona may download (own
agency only, published only) is tested in tests/test_report_jobs.py."""

import hashlib

from django.core.files.base import ContentFile
from django.utils import timezone

LOGIN = "login"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]
EVERYONE = {"anonymous": LOGIN, "no_role": 403, **{persona: 200 for persona in ROLES}}
POST_ONLY = {"anonymous": LOGIN, "no_role": 403, **{persona: 405 for persona in ROLES}}
# A published national report: AAC, NDC and administrators; agency users never see it.
NATIONAL_ONLY = {"anonymous": LOGIN, "no_role": 403, "officer_a": 404, "officer_b": 404, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200}


def published(m, kind="national"):
    """A finished, published job with one stored file (made once per matrix)."""
    from reporting.models_reports import AgencyReportItem, ReportFile, ReportJob, report_storage

    key = f"report_{kind}"
    if key not in m:
        job = ReportJob.objects.create(
            kind=kind, year=112, quarter=4, dedupe_key=ReportJob.key_for(kind=kind, year=112, quarter=4, draft=False),
            state=ReportJob.State.DONE, version=1, progress=100, finished_at=timezone.now(), data_as_of=timezone.now(),
            published_at=timezone.now(), requested_by=m["personas"].aac,
        )
        content = b"%PDF-1.7 test"
        agency = m["personas"].agency_a if kind == "agency_batch" else None
        if agency is not None:
            AgencyReportItem.objects.create(job=job, agency=agency, state=AgencyReportItem.State.DONE)
        name = report_storage.save(f"112/{job.pk}/report.pdf", ContentFile(content))
        m[key] = (job, ReportFile.objects.create(
            job=job, agency=agency, format="pdf", file=name, filename="report.pdf", size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        ))
    return m[key]


EXPECTED = {
    "reports:list": (lambda m: {}, EVERYONE),
    "reports:request": (lambda m: {}, POST_ONLY),
    "reports:detail": (lambda m: {"pk": published(m)[0].pk}, NATIONAL_ONLY),
    "reports:status": (lambda m: {"pk": published(m)[0].pk}, NATIONAL_ONLY),
    # The list of every agency's files: national roles only; agency A's officer sees the
    # batch (it holds their file) but not everyone's list.
    "reports:agency_files": (
        lambda m: {"pk": published(m, "agency_batch")[0].pk},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 403, "officer_b": 404, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    "reports:publish": (lambda m: {"pk": published(m)[0].pk}, POST_ONLY),
    "reports:rerun": (lambda m: {"pk": published(m)[0].pk}, POST_ONLY),
    "reports:download": (lambda m: {"pk": published(m)[1].pk}, NATIONAL_ONLY),
}
