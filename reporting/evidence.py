"""Which files may be attached to an entry as evidence (佐證資料), decided by their content.

Pure functions: nothing here touches the database or the storage. A file is
accepted only when its bytes are one of the allowed types AND its extension
names that same type, so an executable renamed ``.pdf`` or a PDF renamed
``.docx`` is refused with a message that says what the file really is.

- PDF: ``%PDF-`` at the very start (a header further in is how polyglot files
  hide behind another format, so it is not accepted).
- ODF: a ZIP whose ``mimetype`` member names the ODF type.
- OOXML: a ZIP whose ``[Content_Types].xml`` declares the main part of a
  document, workbook or presentation, and that part exists.
- Legacy Office: an OLE2 compound file whose root holds the ``WordDocument``,
  ``Workbook``/``Book`` or ``PowerPoint Document`` stream.
- Images: the signature, then Pillow opens and verifies the file as that format.
"""

import hashlib
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_FILES = 20
NAME_MAX_LENGTH = 150  # characters kept of the original name (extension included)


@dataclass(frozen=True)
class FileType:
    key: str
    label: object  # lazy translation
    extensions: tuple[str, ...]
    content_type: str


ALLOWED_TYPES = {
    t.key: t
    for t in (
        FileType("pdf", _lazy("PDF 文件"), ("pdf",), "application/pdf"),
        FileType("odt", _lazy("ODF 文字文件"), ("odt",), "application/vnd.oasis.opendocument.text"),
        FileType("ods", _lazy("ODF 試算表"), ("ods",), "application/vnd.oasis.opendocument.spreadsheet"),
        FileType("odp", _lazy("ODF 簡報"), ("odp",), "application/vnd.oasis.opendocument.presentation"),
        FileType("docx", _lazy("Word 文件"), ("docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        FileType("xlsx", _lazy("Excel 活頁簿"), ("xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        FileType("pptx", _lazy("PowerPoint 簡報"), ("pptx",), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        FileType("doc", _lazy("Word 97–2003 文件"), ("doc",), "application/msword"),
        FileType("xls", _lazy("Excel 97–2003 活頁簿"), ("xls",), "application/vnd.ms-excel"),
        FileType("ppt", _lazy("PowerPoint 97–2003 簡報"), ("ppt",), "application/vnd.ms-powerpoint"),
        FileType("png", _lazy("PNG 圖片"), ("png",), "image/png"),
        FileType("jpeg", _lazy("JPEG 圖片"), ("jpg", "jpeg"), "image/jpeg"),
        FileType("gif", _lazy("GIF 圖片"), ("gif",), "image/gif"),
        FileType("webp", _lazy("WebP 圖片"), ("webp",), "image/webp"),
    )
}
EXTENSIONS = {ext: t for t in ALLOWED_TYPES.values() for ext in t.extensions}
KIND_CHOICES = [(t.key, t.label) for t in ALLOWED_TYPES.values()]
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in EXTENSIONS)

# What a refused file turned out to be, for the message.
OTHER_LABELS = {
    "executable": _lazy("執行檔"),
    "zip": _lazy("一般 ZIP 壓縮檔"),
    "odf_other": _lazy("其他 ODF 文件"),
    "ooxml_other": _lazy("其他 Office 檔案（如範本）"),
    "ooxml_macro": _lazy("含巨集的 Office 檔案"),
    "ole_other": _lazy("其他 OLE 複合文件（如 MSI 安裝檔、Outlook 郵件）"),
}

ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
OOXML_MACRO_PARTS = {
    "application/vnd.ms-word.document.macroenabled.main+xml",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml",
    "application/vnd.ms-excel.template.macroenabled.main+xml",
    "application/vnd.ms-excel.sheet.binary.macroenabled.main",
    "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml",
    "application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml",
    "application/vnd.ms-powerpoint.template.macroenabled.main+xml",
}
OLE_ROOT_STREAMS = {"worddocument": "doc", "workbook": "xls", "book": "xls", "powerpoint document": "ppt"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
SMALL_MEMBER_LIMIT = 1024 * 1024  # a mimetype or [Content_Types].xml larger than this is not a real one


class EvidenceError(ValidationError):
    """The file itself is not acceptable (type, name, size); the message says why."""


class EncryptedFile(Exception):
    pass


@dataclass(frozen=True)
class CheckedFile:
    name: str  # cleaned original name, safe to show and to send back
    kind: str  # key of ALLOWED_TYPES
    content_type: str
    size: int
    sha256: str


def format_size(size: int) -> str:
    """20971520 → "20 MB"; binary units, as people read file sizes."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


def too_large_message(max_bytes: int) -> str:
    return _("檔案超過大小上限 %(limit)s，請壓縮或分割後再上傳。") % {"limit": format_size(max_bytes)}


def clean_filename(name: str) -> str:
    """The name to keep and show: no folders, no control or direction characters,
    nothing Windows refuses, at most NAME_MAX_LENGTH characters with the extension kept.

    It is only ever shown and sent back in Content-Disposition; the stored file has
    a random name, so this is about display and safe downloads, not the disk.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    # isprintable() is False for control and format characters (U+202E would let
    # "x\u202Efdp.exe" read as "xexe.pdf").
    name = "".join(ch if ch.isprintable() else "" for ch in name)
    name = re.sub(r'[<>:"|?*]', "_", name).strip().lstrip(".").strip()
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: NAME_MAX_LENGTH - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:NAME_MAX_LENGTH]
    return name


def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _size_of(file) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for block in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


# ---------------------------------------------------------------- detection


def detect_kind(file) -> str | None:
    """What the bytes are: a key of ALLOWED_TYPES, of OTHER_LABELS, or None if unknown.

    Raises EncryptedFile for a password-protected Office file, whose type cannot be seen.
    """
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(PNG_SIGNATURE):
        return _image("png", file)
    if head.startswith(b"\xff\xd8\xff"):
        return _image("jpeg", file)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _image("gif", file)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _image("webp", file)
    if head.startswith(OLE_SIGNATURE):
        return _ole_kind(file)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(file)
    if head.startswith(EXECUTABLE_SIGNATURES):
        return "executable"
    return None


def _image(kind: str, file) -> str | None:
    from PIL import Image

    formats = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
    try:
        with Image.open(file, formats=[formats[kind]]) as image:
            image.verify()
    except Exception:  # noqa: BLE001 -- Pillow raises many kinds for a broken or hostile file; all mean "not this image"
        return None
    finally:
        file.seek(0)
    return kind


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    info = archive.getinfo(name)
    if info.file_size > SMALL_MEMBER_LIMIT or info.flag_bits & 0x1:  # too big to be genuine, or encrypted
        return None
    with archive.open(info) as member:
        return member.read(SMALL_MEMBER_LIMIT + 1)[:SMALL_MEMBER_LIMIT]


def _zip_kind(file) -> str | None:
    try:
        with zipfile.ZipFile(file) as archive:
            names = {info.filename: info for info in archive.infolist()}
            lower = {name.lower() for name in names}
            if "mimetype" in names:
                mimetype = (_read_member(archive, "mimetype") or b"").decode("ascii", "replace").strip()
                if mimetype in ODF_MIMETYPES and "content.xml" in names:
                    return ODF_MIMETYPES[mimetype]
                return "odf_other" if mimetype.startswith("application/vnd.oasis.opendocument.") else "zip"
            if "[Content_Types].xml" in names:
                return _ooxml_kind(_read_member(archive, "[Content_Types].xml") or b"", lower)
            return "zip"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        return None
    finally:
        file.seek(0)


def _ooxml_kind(content_types: bytes, names: set[str]) -> str | None:
    # OOXML is UTF-8 and never carries a DTD; refusing other encodings (where a DTD
    # would not show as these bytes) and any DTD keeps entity expansion out of the parser.
    if b"\0" in content_types or content_types.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if b"<!DOCTYPE" in content_types.upper() or b"<!ENTITY" in content_types.upper():
        return None
    try:
        root = ElementTree.fromstring(content_types)
    except ElementTree.ParseError:
        return None
    found = "ooxml_other"
    for element in root:
        if not element.tag.endswith("Override"):
            continue
        content_type = element.get("ContentType", "").strip().lower()
        part = element.get("PartName", "").lstrip("/").lower()  # OPC part names ignore case
        if content_type in OOXML_MACRO_PARTS:
            return "ooxml_macro"
        if content_type in OOXML_MAIN_PARTS and part in names:
            found = OOXML_MAIN_PARTS[content_type]
    return found


def _ole_kind(file) -> str | None:
    try:
        names = ole_root_names(file)
    except (struct.error, ValueError, IndexError):
        return None
    finally:
        file.seek(0)
    lowered = {name.lower() for name in names}
    if {"encryptioninfo", "encryptedpackage"} <= lowered:
        raise EncryptedFile
    kinds = {OLE_ROOT_STREAMS[name] for name in lowered if name in OLE_ROOT_STREAMS}
    if len(kinds) == 1:
        return kinds.pop()
    return "ole_other"


def ole_root_names(file) -> list[str]:
    """Names of the streams and storages directly under the root of an OLE2 compound file (MS-CFB).

    Only the directory is read: header → DIFAT → FAT → directory chain → root's children.
    Every chain is bounded, so a hostile file cannot loop.
    """
    file.seek(0, 2)
    file_size = file.tell()
    file.seek(0)
    header = file.read(512)
    if len(header) < 512 or not header.startswith(OLE_SIGNATURE):
        raise ValueError("not a compound file")
    (sector_shift,) = struct.unpack_from("<H", header, 30)
    if sector_shift not in (9, 12):
        raise ValueError("bad sector size")
    sector_size = 1 << sector_shift
    fat_sectors, first_directory = struct.unpack_from("<II", header, 44)
    first_difat, difat_count = struct.unpack_from("<II", header, 68)
    sector_count = max((file_size + sector_size - 1) // sector_size - 1, 0)  # sectors after the header
    if fat_sectors > sector_count or difat_count > sector_count:
        raise ValueError("bad header counts")

    def sector(number: int) -> bytes:
        if number >= sector_count:
            raise ValueError("sector out of range")
        file.seek((number + 1) * sector_size)
        data = file.read(sector_size)
        if len(data) < sector_size:
            data += b"\0" * (sector_size - len(data))  # the last sector may be cut short
        return data

    difat = list(struct.unpack_from("<109I", header, 76))
    next_difat, seen = first_difat, 0
    per_sector = sector_size // 4
    while next_difat < 0xFFFFFFFA and seen < difat_count:
        entries = struct.unpack(f"<{per_sector}I", sector(next_difat))
        difat.extend(entries[:-1])
        next_difat, seen = entries[-1], seen + 1
    fat_locations = [n for n in difat if n < 0xFFFFFFFA][:fat_sectors]
    fat = []
    for number in fat_locations:
        fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))

    directory = b""
    number, visited = first_directory, set()
    while number < 0xFFFFFFFA:
        if number in visited or number >= len(fat):
            raise ValueError("broken directory chain")
        visited.add(number)
        directory += sector(number)
        number = fat[number]
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries or entries[0][66] != 5:  # the first entry is the root storage
        raise ValueError("no root entry")

    def name_of(entry: bytes) -> str:
        (length,) = struct.unpack_from("<H", entry, 64)
        return entry[: max(min(length, 64) - 2, 0)].decode("utf-16-le", "replace")

    names, stack, visited = [], [struct.unpack_from("<I", entries[0], 76)[0]], set()
    while stack:
        index = stack.pop()
        if index >= len(entries) or index in visited:
            continue  # NOSTREAM (0xFFFFFFFF) or a loop
        visited.add(index)
        entry = entries[index]
        if entry[66] in (1, 2):  # storage or stream
            names.append(name_of(entry))
        left, right = struct.unpack_from("<II", entry, 68)
        stack.extend((left, right))
    return names


# ---------------------------------------------------------------- the check


def _label(kind: str) -> str:
    return str(ALLOWED_TYPES[kind].label if kind in ALLOWED_TYPES else OTHER_LABELS[kind])


def allowed_summary() -> str:
    return _("PDF、ODF（odt、ods、odp）、Office（docx、xlsx、pptx、doc、xls、ppt）及圖片（png、jpg、gif、webp）")


def check_evidence_file(file, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedFile:
    """Accept ``file`` (a seekable binary file) as evidence named ``name``, or raise EvidenceError."""
    clean = clean_filename(name)
    extension = extension_of(clean)
    if extension not in EXTENSIONS:
        if extension:
            message = _("不接受副檔名為「.%(ext)s」的檔案；佐證資料限 %(allowed)s。") % {"ext": extension, "allowed": allowed_summary()}
        else:
            message = _("檔名沒有副檔名，無法判斷檔案類型；佐證資料限 %(allowed)s。") % {"allowed": allowed_summary()}
        raise EvidenceError(message, code="extension")
    size = _size_of(file)
    if size == 0:
        raise EvidenceError(_("檔案「%(name)s」是空的（0 位元組）。") % {"name": clean}, code="empty")
    if size > max_bytes:
        raise EvidenceError(too_large_message(max_bytes), code="too_large")
    expected = EXTENSIONS[extension]
    try:
        kind = detect_kind(file)
    except EncryptedFile:
        raise EvidenceError(_("檔案已加密（設有開啟密碼），系統無法確認內容；請移除密碼後再上傳。"), code="encrypted") from None
    if kind is None:
        raise EvidenceError(
            _("無法辨識「%(name)s」的內容，不是有效的%(label)s；檔案可能已損毀，或是改了副檔名的其他檔案。") % {"name": clean, "label": expected.label},
            code="unknown",
        )
    if kind not in ALLOWED_TYPES:
        raise EvidenceError(
            _("檔案內容是%(actual)s，不是副檔名「.%(ext)s」所表示的%(label)s；這類檔案不能作為佐證資料。")
            % {"actual": _label(kind), "ext": extension, "label": expected.label},
            code="not_allowed",
        )
    if kind != expected.key:
        actual = ALLOWED_TYPES[kind]
        raise EvidenceError(
            _("檔案內容是%(actual)s，與副檔名「.%(ext)s」（%(label)s）不符；請確認檔案，或改用正確的副檔名「.%(right)s」後再上傳。")
            % {"actual": actual.label, "ext": extension, "label": expected.label, "right": actual.extensions[0]},
            code="mismatch",
        )
    return CheckedFile(name=clean, kind=kind, content_type=expected.content_type, size=size, sha256=_sha256(file))
