"""Who may open the evidence URLs (a file on agency 交通部's entry, held by officer_a)."""

import atexit
import hashlib
import os

from .entries import _entry

LOGIN = "login"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]
PROBE = b"%PDF-1.4\n%%EOF\n"


def _evidence(matrix):
    """An evidence row of agency A's entry whose file really exists, so a 200 means the
    download ran. The matrix does not change MEDIA_ROOT, so the file goes to the real
    evidence storage under a name of this process, and is removed when the process ends."""
    from reporting.models import Evidence
    from reporting.models_evidence import evidence_storage

    if "evidence" not in matrix:
        storage, stored = evidence_storage(), f"access-matrix-probe-{os.getpid()}"
        if not storage.exists(stored):
            from django.core.files.base import ContentFile

            storage.save(stored, ContentFile(PROBE))
            atexit.register(storage.delete, stored)
        matrix["evidence"] = Evidence.objects.create(
            entry=_entry(matrix), file=stored, name="會議紀錄.pdf", kind="pdf", content_type="application/pdf",
            size=len(PROBE), sha256=hashlib.sha256(PROBE).hexdigest(), uploaded_by=matrix["personas"].officer_a,
        )
    return matrix["evidence"]


EXPECTED = {
    # Downloads follow the entry's scope: another agency (and a reviewer elsewhere) gets 404.
    "reporting:evidence_download": (
        lambda m: {"pk": _evidence(m).pk},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 404, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    # Upload and remove are POST only; a GET is refused before anything else.
    "reporting:evidence_add": (
        lambda m: {"pk": _entry(m).pk},
        {"anonymous": LOGIN, "no_role": 403, **{persona: 405 for persona in ROLES}},
    ),
    "reporting:evidence_remove": (
        lambda m: {"pk": _evidence(m).pk},
        {"anonymous": LOGIN, "no_role": 403, **{persona: 405 for persona in ROLES}},
    ),
}
