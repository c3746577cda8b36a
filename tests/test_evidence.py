"""Evidence files (佐證資料) on an entry: which files are accepted, where they are kept,
who may download, add and remove them, and that every change is in the history."""

import io
import struct
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import Workbook
from PIL import Image

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from reporting import evidence as checks
from reporting.models import Entry, EntryEvent, Evidence, Obligation, ReportingPeriod
from reporting.services import evidence as services
from reporting.services import obligations_generate
from reporting.services.entries import entry_approve, entry_forward, entry_submit
from reporting.services.periods import period_set_state, periods_ensure

from .conftest import find_measure
from .personas import user_with_role

# ------------------------------------------------------------------ real small files of each kind


def pdf_bytes():
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
        b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n97\n%%EOF\n"
    )


def odf_bytes(kind):
    from odf.opendocument import OpenDocumentPresentation, OpenDocumentSpreadsheet, OpenDocumentText
    from odf.text import P

    document = {"odt": OpenDocumentText, "ods": OpenDocumentSpreadsheet, "odp": OpenDocumentPresentation}[kind]()
    if kind == "odt":
        document.text.addElement(P(text="會議紀錄"))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


OOXML_PARTS = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "pptx": ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "xlsm": ("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
}


def ooxml_bytes(part, content_type, *, content_types=None, members=None):
    types = content_types or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{part}"/></Relationships>',
        )
        for name in members if members is not None else [part]:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def xlsx_bytes():
    workbook = Workbook()
    workbook.active["A1"] = "辦理次數"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cfb_bytes(*streams):
    """A minimal OLE2 compound file (MS-CFB version 3) whose root holds empty streams of these names."""
    names = ["Root Entry", *streams]
    dir_sectors = (len(names) + 3) // 4
    end, free, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    # minor/major version, byte order, sector and mini-sector shift; then directory sectors, FAT sectors,
    # first directory sector, transaction, mini-stream cutoff, mini FAT start and count, DIFAT start and count.
    header += struct.pack("<5H6s9I", 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<109I", 0, *[free] * 108)
    fat = [0xFFFFFFFD] + [n + 2 for n in range(dir_sectors - 1)] + [end]
    fat_sector = struct.pack("<128I", *fat, *[free] * (128 - len(fat)))
    entries = b""
    for index, name in enumerate(names):
        encoded = name.encode("utf-16-le") + b"\0\0"
        is_root = index == 0
        right = index + 1 if not is_root and index + 1 < len(names) else nostream
        child = 1 if is_root and len(names) > 1 else nostream
        entries += encoded.ljust(64, b"\0") + struct.pack("<HBBIII16sIQQIQ", len(encoded), 5 if is_root else 2, 1, nostream, right, child, b"\0" * 16, 0, 0, 0, end, 0)
    entries = entries.ljust(dir_sectors * 512, b"\0")
    return header + fat_sector + entries


def image_bytes(fmt, color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buffer, fmt)
    return buffer.getvalue()


ACCEPTED = {
    "報告.pdf": (pdf_bytes, "pdf"),
    "會議紀錄.odt": (lambda: odf_bytes("odt"), "odt"),
    "統計.ods": (lambda: odf_bytes("ods"), "ods"),
    "簡報.odp": (lambda: odf_bytes("odp"), "odp"),
    "公文.docx": (lambda: ooxml_bytes(*OOXML_PARTS["docx"]), "docx"),
    "統計.xlsx": (xlsx_bytes, "xlsx"),
    "簡報.pptx": (lambda: ooxml_bytes(*OOXML_PARTS["pptx"]), "pptx"),
    "舊公文.doc": (lambda: cfb_bytes("\x05SummaryInformation", "WordDocument", "1Table"), "doc"),
    "舊統計.xls": (lambda: cfb_bytes("Workbook", "\x05SummaryInformation"), "xls"),
    "舊簡報.ppt": (lambda: cfb_bytes("Current User", "PowerPoint Document", "Pictures"), "ppt"),
    "照片.png": (lambda: image_bytes("PNG"), "png"),
    "照片.jpg": (lambda: image_bytes("JPEG"), "jpeg"),
    "照片2.JPEG": (lambda: image_bytes("JPEG", (20, 20, 200)), "jpeg"),
    "動畫.gif": (lambda: image_bytes("GIF"), "gif"),
    "照片.webp": (lambda: image_bytes("WEBP"), "webp"),
}


def check(content: bytes, name: str, max_bytes=checks.DEFAULT_MAX_BYTES):
    return checks.check_evidence_file(io.BytesIO(content), name=name, max_bytes=max_bytes)


# ------------------------------------------------------------------ content checks (no database)


@pytest.mark.parametrize("name", ACCEPTED)
def test_each_allowed_type_is_accepted_by_its_content(name):
    build, kind = ACCEPTED[name]
    checked = check(build(), name)
    assert checked.kind == kind
    assert checked.name == name
    assert checked.content_type == checks.ALLOWED_TYPES[kind].content_type


REFUSED = {
    "an executable renamed .pdf": (b"MZ\x90\x00\x03" + b"\0" * 200, "setup.pdf", ["執行檔", ".pdf"]),
    "a PDF renamed .docx": (pdf_bytes(), "報告.docx", ["PDF 文件", ".docx", ".pdf"]),
    "a plain zip named .xlsx": (None, "資料.xlsx", ["ZIP", ".xlsx"]),
    "an xlsx named .docx": (xlsx_bytes(), "統計.docx", ["Excel 活頁簿", ".docx"]),
    "an odt named .ods": (odf_bytes("odt"), "紀錄.ods", ["ODF 文字文件", ".ods"]),
    "a PNG named .jpg": (image_bytes("PNG"), "照片.jpg", ["PNG 圖片", ".png"]),
    "a macro workbook renamed .xlsx": (ooxml_bytes(*OOXML_PARTS["xlsm"]), "巨集.xlsx", ["巨集"]),
    "a docx whose main part is missing": (ooxml_bytes(*OOXML_PARTS["docx"], members=[]), "公文.docx", ["不是副檔名"]),
    "an OLE file that is not Word, renamed .doc": (cfb_bytes("\x05SummaryInformation", "Property"), "安裝.doc", ["OLE"]),
    "a password-protected Office file": (cfb_bytes("EncryptionInfo", "EncryptedPackage"), "機密.docx", ["加密"]),
    "a broken PNG": (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "圖.png", ["無法辨識", "PNG 圖片"]),
    "a text file named .pdf": (b"hello, I am not a PDF", "假的.pdf", ["無法辨識", "PDF 文件"]),
    "a text file": (b"hello", "說明.txt", [".txt", "PDF"]),
    "a name without extension": (pdf_bytes(), "報告", ["副檔名"]),
    "an executable": (b"MZ\x90\x00" + b"\0" * 60, "setup.exe", [".exe"]),
    "a shell script named .pdf": (b"#!/bin/sh\nrm -rf /\n", "run.pdf", ["執行檔"]),
    "content types with an entity bomb": (
        ooxml_bytes(*OOXML_PARTS["docx"], content_types='<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Types>&a;</Types>'),
        "炸彈.docx", ["無法辨識", "Word 文件"],
    ),
    "content types in UTF-16 (where a DTD hides from a byte search)": (
        ooxml_bytes(*OOXML_PARTS["docx"], content_types='<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><Types/>'.encode("utf-16")),
        "炸彈.docx", ["無法辨識"],
    ),
}


def _plain_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet1.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize("case", REFUSED)
def test_files_that_are_not_what_their_name_says_are_refused_with_a_specific_message(case):
    content, name, words = REFUSED[case]
    with pytest.raises(checks.EvidenceError) as refused:
        check(content if content is not None else _plain_zip(), name)
    message = " ".join(refused.value.messages)
    for word in words:
        assert word in message, (case, message)


def test_an_empty_file_is_refused():
    with pytest.raises(checks.EvidenceError, match="空的"):
        check(b"", "報告.pdf")


def test_an_oversize_file_is_refused_with_the_limit_in_the_message():
    with pytest.raises(checks.EvidenceError, match="1 KB"):
        check(pdf_bytes() + b" " * 1024, "報告.pdf", max_bytes=1024)
    assert check(pdf_bytes(), "報告.pdf", max_bytes=len(pdf_bytes())).size == len(pdf_bytes())


def test_the_default_limit_is_20_mb_and_the_message_says_so(settings):
    del settings.EVIDENCE_MAX_BYTES  # whatever the environment says, the built-in default
    assert services.evidence_max_bytes() == 20 * 1024 * 1024
    big = io.BytesIO(pdf_bytes() + b"\0" * (20 * 1024 * 1024))
    with pytest.raises(checks.EvidenceError, match="20 MB"):
        checks.check_evidence_file(big, name="大檔.pdf", max_bytes=services.evidence_max_bytes())


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../x.pdf", "x.pdf"),
        ("..\\..\\windows\\x.pdf", "x.pdf"),
        ("C:\\Users\\承辦人\\會議紀錄.pdf", "會議紀錄.pdf"),
        ("/etc/passwd/../會議.pdf", "會議.pdf"),
        ("報告\u202efdp.exe", "報告fdp.exe"),  # right-to-left override removed: no "exe.pdf" disguise
        ("a\x00b.pdf", "ab.pdf"),
        ('what?"<>|.pdf', "what_____.pdf"),
        ("..pdf", "pdf"),
        ("長" * 300 + ".pdf", "長" * 146 + ".pdf"),
    ],
)
def test_names_are_cleaned_of_folders_and_control_characters(raw, clean):
    assert checks.clean_filename(raw) == clean


def test_the_size_limit_stops_reading_an_upload_early():
    from reporting.views.evidence import _SizeLimit

    limit = _SizeLimit(None, 10)
    assert limit.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(SkipFile):
        limit.receive_data_chunk(b"123456", 5)
    assert limit.exceeded


def test_the_compound_file_reader_follows_multi_sector_directories():
    names = [f"Stream{n}" for n in range(9)] + ["Workbook"]
    assert checks.ole_root_names(io.BytesIO(cfb_bytes(*names))) == ["Stream0", "Stream1", "Stream2", "Stream3", "Stream4", "Stream5", "Stream6", "Stream7", "Stream8", "Workbook"]
    assert check(cfb_bytes(*names), "表.xls").kind == "xls"
    # A directory chain that points at itself is refused, not followed forever.
    looping = bytearray(cfb_bytes("WordDocument"))
    struct.pack_into("<I", looping, 512 + 4, 1)  # FAT[1] = 1
    with pytest.raises(checks.EvidenceError):
        check(bytes(looping), "迴圈.doc")


# ------------------------------------------------------------------ through the pages and services

_user = user_with_role


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    return tmp_path / "media"


@pytest.fixture
def setup(plan112, media):
    obligations_generate(year=112)
    periods_ensure(year=112)
    obligation = Obligation.objects.get(year=112, agency__name="交通部", indicator__measure=find_measure(plan112, 7, "(五)"))
    period = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    officer = _user("e_officer", "交通部", Role.OFFICER)
    entry = Entry.objects.create(obligation=obligation, period=period, quantity=2, narrative="召開 2 次會議", updated_by=officer)
    return {
        "officer": officer,
        "colleague": _user("e_officer2", "交通部", Role.OFFICER),
        "outsider": _user("e_outsider", "經濟部", Role.OFFICER),
        "reviewer": _user("e_reviewer", "交通部", Role.AGENCY_REVIEWER),
        "aac": _user("e_aac", "法務部廉政署", Role.AAC_REVIEWER),
        "ndc": _user("e_ndc", "國家發展委員會", Role.NDC_ASSESSOR),
        "entry": entry,
        "period": period,
        "media": media,
    }


def _stored_files(media: Path):
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _upload(client, entry, name, content, **extra):
    return client.post(reverse("reporting:evidence_add", args=[entry.pk]), {"file": SimpleUploadedFile(name, content), **extra}, follow=True)


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.django_db
def test_the_officer_uploads_a_file_and_it_is_kept_privately_under_a_random_name(client, setup, settings):
    settings.MEDIA_URL = "/media/"
    client.force_login(setup["officer"])
    response = _upload(client, setup["entry"], "會議紀錄.pdf", pdf_bytes())
    assert any("已新增佐證資料「會議紀錄.pdf」" in m for m in _messages(response))
    evidence = Evidence.objects.get()
    assert (evidence.entry, evidence.name, evidence.kind, evidence.size, evidence.uploaded_by) == (setup["entry"], "會議紀錄.pdf", "pdf", len(pdf_bytes()), setup["officer"])
    stored = Path(evidence.file.path)
    assert stored.read_bytes() == pdf_bytes()
    assert stored.is_relative_to(setup["media"] / "evidence")
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT))
    assert "會議紀錄" not in stored.name and stored.suffix == ""  # the original name never reaches the disk
    assert _stored_files(setup["media"]) == [stored]
    with pytest.raises(ValueError):
        evidence.file.url  # noqa: B018 -- there is no public URL to build
    page = render_panel(setup["officer"], setup["entry"])
    assert reverse("reporting:evidence_download", args=[evidence.pk]) in page
    assert "/media/" not in page and str(Path(evidence.file.name).name) not in page


@pytest.mark.django_db
def test_each_allowed_type_can_be_uploaded_through_the_page(client, setup):
    client.force_login(setup["officer"])
    for name, (build, kind) in ACCEPTED.items():
        _upload(client, setup["entry"], name, build())
    assert sorted(Evidence.objects.values_list("kind", flat=True)) == sorted(kind for _, kind in ACCEPTED.values())
    assert len(_stored_files(setup["media"])) == len(ACCEPTED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("setup.pdf", b"MZ\x90\x00" + b"\0" * 200, ["執行檔"]),
        ("報告.docx", pdf_bytes(), ["PDF 文件", ".docx"]),
        ("資料.xlsx", _plain_zip(), ["ZIP"]),
        ("空白.pdf", b"", ["空的"]),
    ],
)
def test_a_refused_file_leaves_nothing_on_disk_or_in_the_database(client, setup, name, content, words):
    client.force_login(setup["officer"])
    events = EntryEvent.objects.count()
    response = _upload(client, setup["entry"], name, content)
    message = " ".join(_messages(response))
    assert all(word in message for word in words), message
    assert not Evidence.objects.exists()
    assert EntryEvent.objects.count() == events
    assert _stored_files(setup["media"]) == []


@pytest.mark.django_db
def test_an_oversize_upload_is_refused_with_the_limit_and_nothing_kept(client, setup, settings, monkeypatch):
    settings.EVIDENCE_MAX_BYTES = 2048
    client.force_login(setup["officer"])
    with monkeypatch.context() as patch:
        # The upload handler drops the file while it is being received: the service never sees it.
        patch.setattr("reporting.views.evidence.services.evidence_add", lambda **kwargs: pytest.fail("reached the service"))
        response = _upload(client, setup["entry"], "大檔.pdf", pdf_bytes() + b"\0" * 300_000)
    assert any("2 KB" in m for m in _messages(response)), _messages(response)
    assert not Evidence.objects.exists() and _stored_files(setup["media"]) == []
    # Just under the limit passes.
    _upload(client, setup["entry"], "小檔.pdf", pdf_bytes() + b"\0" * (2048 - len(pdf_bytes())))
    assert Evidence.objects.get().size == 2048


@pytest.mark.django_db
def test_the_count_cap_and_duplicates(client, setup, settings):
    settings.EVIDENCE_MAX_FILES = 2
    client.force_login(setup["officer"])
    _upload(client, setup["entry"], "一.pdf", pdf_bytes())
    response = _upload(client, setup["entry"], "一之副本.pdf", pdf_bytes())
    assert any("已經上傳過了（「一.pdf」）" in m for m in _messages(response))
    _upload(client, setup["entry"], "二.png", image_bytes("PNG"))
    response = _upload(client, setup["entry"], "三.gif", image_bytes("GIF"))
    assert any("最多附 2 個" in m for m in _messages(response))
    assert list(Evidence.objects.values_list("name", flat=True)) == ["一.pdf", "二.png"]
    assert len(_stored_files(setup["media"])) == 2


@pytest.mark.django_db
def test_path_traversal_in_the_uploaded_name_is_neutralised(client, setup):
    client.force_login(setup["officer"])
    boundary = "----evidence-boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.pdf\"\r\n"
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + pdf_bytes() + f"\r\n--{boundary}--\r\n".encode()
    client.post(reverse("reporting:evidence_add", args=[setup["entry"].pk]), data=body, content_type=f"multipart/form-data; boundary={boundary}")
    evidence = Evidence.objects.get()
    assert evidence.name == "x.pdf"
    assert _stored_files(setup["media"]) == [Path(evidence.file.path)]
    assert not (setup["media"].parent / "x.pdf").exists() and not (setup["media"] / "x.pdf").exists()
    # The service cleans the name itself too, whatever the caller passes.
    upload = SimpleUploadedFile("placeholder.pdf", image_bytes("PNG"))
    upload._name = "..\\..\\..\\y.png"  # past UploadedFile's own basename()
    assert services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=upload).name == "y.png"


def _download(client, evidence):
    return client.get(reverse("reporting:evidence_download", args=[evidence.pk]))


@pytest.mark.django_db
def test_the_agencys_officer_aac_and_ndc_download_with_the_original_chinese_name(client, setup, settings):
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False  # the view sets it itself, whatever the middleware does
    evidence = services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=SimpleUploadedFile("會議紀錄 第1次.pdf", pdf_bytes()))
    for who in ("officer", "colleague", "reviewer", "aac", "ndc"):
        client.force_login(setup[who])
        response = _download(client, evidence)
        assert response.status_code == 200, who
        assert b"".join(response.streaming_content) == pdf_bytes()
        assert response["Content-Type"] == "application/pdf"
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote('會議紀錄 第1次.pdf')}" in disposition
        assert f'filename="evidence-{evidence.pk}.pdf"' in disposition  # ASCII fallback for old clients
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_another_agency_gets_404_for_download_upload_and_remove(client, setup):
    evidence = services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=SimpleUploadedFile("會議紀錄.pdf", pdf_bytes()))
    client.force_login(setup["outsider"])
    assert _download(client, evidence).status_code == 404
    response = client.post(reverse("reporting:evidence_add", args=[setup["entry"].pk]), {"file": SimpleUploadedFile("x.png", image_bytes("PNG"))})
    assert response.status_code == 404
    assert client.post(reverse("reporting:evidence_remove", args=[evidence.pk])).status_code == 404
    assert list(Evidence.objects.all()) == [evidence]
    assert _stored_files(setup["media"]) == [Path(evidence.file.path)]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["reviewer", "aac", "ndc"])
def test_only_the_agencys_officer_may_add_or_remove(client, setup, who):
    evidence = services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=SimpleUploadedFile("會議紀錄.pdf", pdf_bytes()))
    client.force_login(setup[who])
    response = client.post(reverse("reporting:evidence_add", args=[setup["entry"].pk]), {"file": SimpleUploadedFile("x.png", image_bytes("PNG"))})
    assert response.status_code == 403
    assert client.post(reverse("reporting:evidence_remove", args=[evidence.pk])).status_code == 403
    assert list(Evidence.objects.all()) == [evidence] and len(_stored_files(setup["media"])) == 1
    assert "id_evidence_file" not in render_panel(setup[who], setup["entry"])


def _submitted(setup):
    return entry_submit(entry=setup["entry"], user=setup["officer"])


def _approved(setup):
    entry = _submitted(setup)
    if entry.state == Entry.State.SUBMITTED:
        entry = entry_forward(entry=entry, user=setup["reviewer"])
    return entry_approve(entry=entry, user=setup["aac"])


def _locked(setup):
    period_set_state(period=setup["period"], state=ReportingPeriod.State.LOCKED, user=setup["aac"])
    return setup["entry"]


@pytest.mark.django_db
@pytest.mark.parametrize(("make", "words"), [(_submitted, "不能新增或刪除"), (_approved, "已核定"), (_locked, "已鎖定")])
def test_no_upload_or_removal_once_submitted_approved_or_locked(client, setup, make, words):
    evidence = services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=SimpleUploadedFile("會議紀錄.pdf", pdf_bytes()))
    entry = make(setup)
    client.force_login(setup["officer"])
    response = _upload(client, entry, "新的.png", image_bytes("PNG"))
    assert any(words in m for m in _messages(response)), _messages(response)
    response = client.post(reverse("reporting:evidence_remove", args=[evidence.pk]), follow=True)
    assert any(words in m for m in _messages(response))
    assert list(Evidence.objects.all()) == [evidence] and len(_stored_files(setup["media"])) == 1
    page = render_panel(setup["officer"], Entry.objects.get(pk=entry.pk))
    assert "id_evidence_file" not in page and words in page  # the officer is told why
    assert _download(client, evidence).status_code == 200  # still readable


@pytest.mark.django_db
def test_a_returned_entry_takes_evidence_again(client, setup):
    from reporting.services.entries import entry_return

    entry = _submitted(setup)
    if entry.state == Entry.State.SUBMITTED:
        entry = entry_forward(entry=entry, user=setup["reviewer"])
    entry_return(entry=entry, user=setup["aac"], comment="請補會議紀錄。")
    client.force_login(setup["officer"])
    _upload(client, entry, "會議紀錄.pdf", pdf_bytes())
    assert Evidence.objects.get().entry_id == entry.pk


@pytest.mark.django_db
def test_add_and_remove_are_recorded_in_the_history(client, setup, django_capture_on_commit_callbacks):
    client.force_login(setup["officer"])
    detail = reverse("reporting:entry_detail", args=[setup["entry"].pk])
    response = _upload(client, setup["entry"], "會議紀錄.pdf", pdf_bytes(), next=detail)
    assert response.redirect_chain[-1][0] == detail
    evidence = Evidence.objects.get()
    stored = Path(evidence.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reporting:evidence_remove", args=[evidence.pk]), {"next": detail}, follow=True)
    assert any("已刪除佐證資料「會議紀錄.pdf」" in m for m in _messages(response))
    assert not Evidence.objects.exists() and not stored.exists()
    events = list(EntryEvent.objects.filter(entry=setup["entry"]).order_by("at", "pk").values_list("action", "comment", "actor", "to_state"))
    assert events[-2:] == [
        ("evidence_added", "會議紀錄.pdf", setup["officer"].pk, "draft"),
        ("evidence_removed", "會議紀錄.pdf", setup["officer"].pk, "draft"),
    ]
    history = client.get(detail).text
    assert "新增佐證資料" in history and "刪除佐證資料" in history and "會議紀錄.pdf" in history
    # Removing again (a second tab) is refused calmly.
    assert client.post(reverse("reporting:evidence_remove", args=[evidence.pk])).status_code == 404


@pytest.mark.django_db
def test_an_unsafe_next_is_ignored(client, setup):
    client.force_login(setup["officer"])
    response = client.post(reverse("reporting:evidence_add", args=[setup["entry"].pk]), {"file": SimpleUploadedFile("a.pdf", pdf_bytes()), "next": "https://evil.example/"})
    assert response.url == reverse("reporting:entry_detail", args=[setup["entry"].pk])


@pytest.mark.django_db
def test_a_missing_file_answers_404(client, setup):
    evidence = services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=SimpleUploadedFile("會議紀錄.pdf", pdf_bytes()))
    Path(evidence.file.path).unlink()
    client.force_login(setup["aac"])
    assert _download(client, evidence).status_code == 404


# ------------------------------------------------------------------ the include


def render_panel(user, entry):
    from django.template.loader import render_to_string

    from reporting.views.evidence import evidence_panel

    request = RequestFactory().get(reverse("reporting:entry_detail", args=[entry.pk]))
    request.user = user
    return render_to_string("reporting/_evidence.html", {"evidence_panel": evidence_panel(request, entry)}, request=request)


@pytest.mark.django_db
def test_the_panel_offers_upload_and_remove_only_to_the_agencys_officer(setup):
    services.evidence_add(entry=setup["entry"], user=setup["officer"], upload=SimpleUploadedFile("會議紀錄.pdf", pdf_bytes()))
    own = render_panel(setup["officer"], setup["entry"])
    assert "id_evidence_file" in own and reverse("reporting:evidence_add", args=[setup["entry"].pk]) in own
    assert 'enctype="multipart/form-data"' in own and "20 MB" in own and ".docx" in own
    assert reverse("reporting:evidence_remove", args=[Evidence.objects.get().pk]) in own
    other = render_panel(setup["aac"], setup["entry"])
    assert "會議紀錄.pdf" in other and "id_evidence_file" not in other and "evidence_remove" not in other
    assert reverse("reporting:evidence_remove", args=[Evidence.objects.get().pk]) not in other


@pytest.mark.django_db
def test_the_panel_on_an_entry_not_yet_saved_says_to_save_first(reference_data):
    from django.template.loader import render_to_string

    from reporting.views.evidence import evidence_panel

    request = RequestFactory().get("/")
    request.user = User.objects.create_user(username="x", password="pw-123456789")
    page = render_to_string("reporting/_evidence.html", {"evidence_panel": evidence_panel(request, None)}, request=request)
    assert "儲存草稿後即可上傳佐證資料" in page
    assert render_to_string("reporting/_evidence.html", {}).strip() == ""  # nothing without the context


@pytest.mark.django_db
def test_an_upload_without_the_csrf_token_is_refused(setup):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(setup["officer"])
    response = client.post(reverse("reporting:evidence_add", args=[setup["entry"].pk]), {"file": SimpleUploadedFile("a.pdf", pdf_bytes())})
    assert response.status_code == 403
    assert not Evidence.objects.exists() and _stored_files(setup["media"]) == []


@pytest.mark.django_db
def test_a_large_upload_kept_in_a_temporary_file_is_stored_the_same_way(client, setup, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # anything larger goes through a temporary file
    content = pdf_bytes() + b"%" * 50_000
    client.force_login(setup["officer"])
    _upload(client, setup["entry"], "大份報告.pdf", content)
    evidence = Evidence.objects.get()
    assert Path(evidence.file.path).read_bytes() == content and evidence.size == len(content)
