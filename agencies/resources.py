"""The agency registry as a spreadsheet: import and export (django-import-export).

One row per agency under zh-Hant column headers (機關代碼, 機關名稱, 簡稱, 上級機關,
機關類別, 設有政風機構, 現存機關, 裁撤日期, 別名, 備註); XLSX, CSV and ODS alike.

How a file is applied:

* The whole file is read and checked in ``before_import``, so every bad row is
  reported at once, each message naming its row (as numbered in the sheet, the
  header being row 1) and its column. A file with any bad row writes nothing.
* A row updates the agency holding its 機關代碼; failing that, the one whose
  official name or alias is its 機關名稱 (compared with ``normalize_agency_name``);
  otherwise it creates one. A row found by an alias keeps the official name; a
  row found by its code under another name renames the agency, and the old
  name stays as an alias.
* 上級機關 is a code, name or alias of an agency in the file or in the database.
  Rows are imported parents first, so a parent may come after its child.
* 別名 are merged: aliases not in the file are kept, none is stored twice.
* A column left out of the file leaves that attribute alone. A blank cell in a
  text column blanks the text, and a blank 上級機關 makes a top-level agency
  (as an export writes them); a blank 機關類別, 設有政風機構 or 現存機關 keeps
  the current value (the default for a new agency). Nothing is ever deleted: a
  retired body (現存機關 否) keeps everything that points at it.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field as dataclass_field

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import Error, Result

from .models import Agency, AgencyName
from .naming import normalize_agency_name

# The headers are the file format rather than interface text: they stay the
# same whatever the language, or an exported file would not import again.
CODE, NAME, SHORT_NAME, PARENT = "機關代碼", "機關名稱", "簡稱", "上級機關"
KIND, HAS_INTEGRITY_UNIT, IS_ACTIVE, RETIRED_ON = "機關類別", "設有政風機構", "現存機關", "裁撤日期"
ALIASES, NOTE = "別名", "備註"

# Added to each row in before_import: rows are reordered parents first, and
# results must still name the row as numbered in the sheet.
ROW_NUMBER = "__row_number__"

# The model fields a row can change; a row that changes none of them and adds
# no alias is reported as skipped.
_WRITTEN_FIELDS = ("code", "name", "short_name", "parent_id", "kind", "has_integrity_unit", "is_active", "retired_on", "note")

_ALIAS_MAX_LENGTH = AgencyName._meta.get_field("name").max_length


def _cell_text(value) -> str:
    """A cell as stripped text. Spreadsheets give numbers for codes typed as
    digits (ODS gives floats), so a whole number loses its '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _fold(text: str) -> str:
    """Full-width letters, digits and punctuation as half-width."""
    return unicodedata.normalize("NFKC", text)


class TextWidget(widgets.Widget):
    def __init__(self, max_length=None):
        super().__init__(coerce_to_string=True)
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        if self.max_length and len(text) > self.max_length:
            raise ValueError(_("不可超過 %(limit)d 字（目前 %(length)d 字）。") % {"limit": self.max_length, "length": len(text)})
        return text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class ParentWidget(TextWidget):
    """Written as the parent's code, or its name when it has none; read as
    text, which AgencyResource resolves against the file and the database."""

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.code or value.name


class KindWidget(widgets.Widget):
    """The zh-Hant label (中央機關) or the stored value (central)."""

    def clean(self, value, row=None, **kwargs):
        text = _fold(_cell_text(value))
        if not text:
            return None
        for kind in Agency.Kind:
            if text.lower() == kind.value or text in {str(kind.label), self._file_label(kind)}:
                return kind.value
        raise ValueError(
            _("「%(value)s」不是機關類別；可填：%(choices)s。") % {"value": text, "choices": "、".join(self._file_label(kind) for kind in Agency.Kind)}
        )

    def render(self, value, obj=None, **kwargs):
        return self._file_label(Agency.Kind(value)) if value else ""

    @staticmethod
    def _file_label(kind) -> str:
        with translation.override("zh-hant"):
            return str(kind.label)


class YesNoWidget(widgets.Widget):
    TRUE = {"是", "y", "yes", "true", "t", "1"}
    FALSE = {"否", "n", "no", "false", "f", "0"}

    def clean(self, value, row=None, **kwargs):
        text = _fold(_cell_text(value)).lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("「%(value)s」應填「是」或「否」（也可用 Y/N、true/false、1/0）。") % {"value": _cell_text(value)})

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ("是" if value else "否")


class RocDateWidget(widgets.Widget):
    """A date cell, an ISO date (2024-05-01) or a ROC date (113/05/01,
    民國113年5月1日). Years of up to three digits are ROC years."""

    PATTERN = re.compile(
        r"(?P<roc>(?:中華)?民國)?\s*(?P<year>\d{1,4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
        r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"  # the midnight a spreadsheet may add
    )

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = _fold(_cell_text(value))
        if not text:
            return None
        match = self.PATTERN.fullmatch(text)
        if match:
            year = int(match["year"])
            if match["roc"] or len(match["year"]) <= 3:
                year = year + 1911 if 0 < year < 1000 else 0
            try:
                return datetime.date(year, int(match["month"]), int(match["day"]))
            except ValueError:
                pass
        raise ValueError(
            _("「%(value)s」不是有效的日期；請填西元日期（2024-05-01）或民國日期（113/05/01、民國113年5月1日）。") % {"value": _cell_text(value)}
        )

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class AliasesWidget(widgets.Widget):
    """Names separated by 、, or by ; when a name itself holds a 、 (as
    直轄市、縣(市)政府 does); such a name alone is written with a closing ;.
    Written from the agency's AgencyName rows, official name left out."""

    SEMICOLONS = re.compile(r"[;；]")
    ENUMERATION_COMMA = re.compile("、")

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        separator = self.SEMICOLONS if self.SEMICOLONS.search(text) else self.ENUMERATION_COMMA
        names = [name.strip() for line in text.splitlines() for name in separator.split(line)]
        names = [name for name in names if name]
        for name in names:
            if len(name) > _ALIAS_MAX_LENGTH:
                raise ValueError(_("別名「%(name)s」超過 %(limit)d 字。") % {"name": name, "limit": _ALIAS_MAX_LENGTH})
        return names

    def render(self, value, obj=None, **kwargs):
        if value is None or value.instance.pk is None:  # an agency not saved yet has no names
            return ""
        names = [name.name for name in value.all() if not name.is_official]
        if not any("、" in name for name in names):
            return "、".join(names)
        return ";".join(names) + (";" if len(names) == 1 else "")


class ODS(base_formats.ODS):
    """An ODS file is a zip archive, but django-import-export 4.4 reads it as
    text and fails on upload (fixed upstream in pull request 2176)."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        return base_formats.TablibFormat.create_dataset(self, in_stream, **kwargs)


class AgencyFileError(Exception):
    """The file as a whole cannot be read as an agency list (its headers)."""


class AgencyImportError(Error):
    # A header problem is the user's to fix: no traceback on the page.
    @cached_property
    def traceback(self):
        return "" if isinstance(self.error, AgencyFileError) else super().traceback


class AgencyImportResult(Result):
    """Rows are numbered and listed as in the sheet, though imported parents first."""

    def append_invalid_row(self, number, row, validation_error):
        super().append_invalid_row(row.get(ROW_NUMBER, number), row, validation_error)

    def append_error_row(self, number, row, errors):
        super().append_error_row(row.get(ROW_NUMBER, number), row, errors)

    def row_errors(self):
        return [(getattr(row, "number", None), row.errors) for row in self.rows if row.errors]


@dataclass(eq=False)
class PlannedRow:
    """One data row of the file, checked against the file and the database."""

    number: int
    values: dict = dataclass_field(default_factory=dict)  # cleaned, by resource field, for the columns present
    errors: dict = dataclass_field(default_factory=dict)  # column → messages
    agency: Agency | None = None  # the existing agency the row updates
    aliases: list = dataclass_field(default_factory=list)  # distinct, without the row's own name
    new_alias_count: int = 0  # aliases no agency has yet
    kept_name: str = ""  # the official name, when the row found the agency by an alias
    parent_row: "PlannedRow | None" = None
    parent_agency: Agency | None = None
    instance: Agency | None = None  # set while importing; children read their parent here

    @property
    def name(self) -> str:
        return self.values.get("name", "")

    def fail(self, column: str, problem: str):
        message = _("第 %(row)d 列「%(column)s」：%(problem)s") % {"row": self.number, "column": column, "problem": problem}
        self.errors.setdefault(column, []).append(message)


class PlannedRowLoader(BaseInstanceLoader):
    """The agency a row updates, as matched when the file was checked."""

    def get_instance(self, row):
        return self.resource.planned_row(row).agency


class AgencyResource(resources.ModelResource):
    """The registry, one row per agency (the rules are in the module's docstring)."""

    code = fields.Field(attribute="code", column_name=CODE, widget=TextWidget(Agency._meta.get_field("code").max_length))
    name = fields.Field(attribute="name", column_name=NAME, widget=TextWidget(Agency._meta.get_field("name").max_length))
    short_name = fields.Field(
        attribute="short_name", column_name=SHORT_NAME, widget=TextWidget(Agency._meta.get_field("short_name").max_length)
    )
    # 上級機關 and 別名 need the whole file to be understood: import_instance and
    # after_save_instance write them, so the fields themselves are read-only.
    parent = fields.Field(attribute="parent", column_name=PARENT, widget=ParentWidget(), readonly=True)
    kind = fields.Field(attribute="kind", column_name=KIND, widget=KindWidget(), saves_null_values=False)
    has_integrity_unit = fields.Field(
        attribute="has_integrity_unit", column_name=HAS_INTEGRITY_UNIT, widget=YesNoWidget(), saves_null_values=False
    )
    is_active = fields.Field(attribute="is_active", column_name=IS_ACTIVE, widget=YesNoWidget(), saves_null_values=False)
    retired_on = fields.Field(attribute="retired_on", column_name=RETIRED_ON, widget=RocDateWidget())
    aliases = fields.Field(attribute="names", column_name=ALIASES, widget=AliasesWidget(), readonly=True)
    note = fields.Field(attribute="note", column_name=NOTE, widget=TextWidget())

    class Meta:
        model = Agency
        name = "機關名冊"
        fields = ("code", "name", "short_name", "parent", "kind", "has_integrity_unit", "is_active", "retired_on", "aliases", "note")
        import_id_fields = ["name"]
        instance_loader_class = PlannedRowLoader
        use_transactions = True
        report_skipped = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._planned = {}
        self._file_has_errors = False

    # --- import: the whole file first -------------------------------------

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, collect_failed_rows=False,
                    rollback_on_validation_errors=False, **kwargs):
        # A copy: before_import reorders the rows, the caller's dataset stays as given.
        dataset = tablib.Dataset(*dataset, headers=dataset.headers)
        # All or nothing, whoever calls: the admin's confirm step does not ask
        # for a rollback on validation errors, and the data may have changed
        # since its preview.
        return super().import_data(
            dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
            collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True, **kwargs,
        )

    def before_import(self, dataset, **kwargs):
        headers = [_cell_text(header).lstrip("\ufeff") for header in dataset.headers or []]
        rows = []
        for number, values in enumerate(dataset, start=2):
            if any(_cell_text(value) for value in values):  # blank lines are not rows
                rows.append((number, {header: value for header, value in zip(headers, values) if header}))
        headers = [header for header in headers if header]  # nor are columns without a header
        problem = self._header_problem(headers)
        if problem:
            dataset.wipe()
            raise AgencyFileError(problem)
        planned = self._check(rows, has_parents=PARENT in headers)
        self._planned = {row.number: row for row in planned}
        self._file_has_errors = any(row.errors for row in planned)
        # Import parents before children, keeping each row's number.
        cells = dict(rows)
        dataset.wipe()
        dataset.headers = [*headers, ROW_NUMBER]
        for row in self._parents_first(planned):
            values = cells[row.number]
            dataset.append([*("" if values.get(header) is None else values[header] for header in headers), row.number])

    def _header_problem(self, headers) -> str:
        known = [field.column_name for field in self.get_import_fields()]
        if NAME not in headers:
            return _("檔案缺少「%(column)s」欄。第一列應為欄位名稱：%(columns)s。") % {"column": NAME, "columns": "、".join(known)}
        unknown = [header for header in headers if header not in known]
        if unknown:
            return _("無法辨識的欄位：%(unknown)s。可用的欄位：%(columns)s。") % {"unknown": "、".join(unknown), "columns": "、".join(known)}
        repeated = sorted({header for header in headers if headers.count(header) > 1}, key=headers.index)
        if repeated:
            return _("欄位重複：%(columns)s。") % {"columns": "、".join(repeated)}
        return ""

    def _check(self, rows, *, has_parents) -> list[PlannedRow]:
        """Clean every cell, match rows to agencies and find every problem."""
        agencies = {agency.pk: agency for agency in Agency.objects.all()}
        by_code = {agency.code: agency for agency in agencies.values() if agency.code}
        by_key = {normalize_agency_name(agency.name): agency for agency in agencies.values()}
        by_key.update({key: agencies[agency_id] for key, agency_id in AgencyName.objects.values_list("key", "agency_id")})

        planned = []
        for number, cells in rows:
            row = PlannedRow(number)
            for field_name, field in self.fields.items():
                if field.column_name in cells:
                    try:
                        row.values[field_name] = field.widget.clean(cells[field.column_name])
                    except ValueError as error:
                        row.fail(field.column_name, str(error))
            if not row.name and NAME not in row.errors:
                row.fail(NAME, _("機關名稱不可空白。"))
            planned.append(row)

        for row in planned:
            self._match(row, by_code, by_key)
        self._check_within_file(planned)
        # Parents are looked up in the file first: its rows may rename agencies or create them.
        file_by_code, file_by_key = {}, {}
        for row in planned:
            if row.values.get("code"):
                file_by_code.setdefault(row.values["code"], row)
            for printed in filter(None, [row.name, *row.aliases]):
                file_by_key.setdefault(normalize_agency_name(printed), row)
        row_of_agency = {row.agency.pk: row for row in planned if row.agency is not None}
        for row in planned:
            self._resolve_parent(row, file_by_code, file_by_key, by_code, by_key, row_of_agency)
        self._check_cycles(planned, agencies, row_of_agency, has_parents=has_parents)
        for row in planned:
            self._check_retirement(row)
        return planned

    def _match(self, row, by_code, by_key):
        code = row.values.get("code", "")
        by_its_code = by_code.get(code) if code else None
        key = normalize_agency_name(row.name)
        by_its_name = by_key.get(key) if key else None
        if by_its_code and by_its_name and by_its_code != by_its_name:
            row.fail(CODE, _("機關代碼「%(code)s」屬於「%(owner)s」，但機關名稱「%(name)s」屬於「%(other)s」。") % {
                "code": code, "owner": by_its_code.name, "name": row.name, "other": by_its_name.name,
            })
            return
        row.agency = by_its_code or by_its_name
        if by_its_code is None and by_its_name is not None and normalize_agency_name(by_its_name.name) != key:
            # Found by an alias: the row names the body, it does not rename it.
            row.kept_name = by_its_name.name

        aliases = {}
        for alias in row.values.get("aliases", []):
            alias_key = normalize_agency_name(alias)
            if alias_key != key:
                aliases.setdefault(alias_key, alias)
        row.aliases = list(aliases.values())
        for alias_key, alias in aliases.items():
            owner = by_key.get(alias_key)
            if owner is None:
                row.new_alias_count += 1
            elif owner != row.agency:
                row.fail(ALIASES, _("別名「%(alias)s」已屬於「%(owner)s」。") % {"alias": alias, "owner": owner.name})

    def _check_within_file(self, planned):
        first_with_code, first_with_key, first_for_agency = {}, {}, {}
        for row in planned:
            code = row.values.get("code", "")
            if code:
                if code in first_with_code:
                    row.fail(CODE, _("機關代碼「%(code)s」與第 %(other)d 列重複。") % {"code": code, "other": first_with_code[code].number})
                else:
                    first_with_code[code] = row
            named = [(NAME, row.name)] if row.name else []
            for column, printed in named + [(ALIASES, alias) for alias in row.aliases]:
                key = normalize_agency_name(printed)
                other = first_with_key.setdefault(key, row)
                if other is not row:
                    row.fail(column, _("「%(name)s」與第 %(other)d 列的機關名稱或別名重複。") % {"name": printed, "other": other.number})
            if row.agency is not None and NAME not in row.errors:
                other = first_for_agency.setdefault(row.agency.pk, row)
                if other is not row:
                    row.fail(NAME, _("與第 %(other)d 列是同一個機關（%(agency)s）。") % {"other": other.number, "agency": row.agency.name})

    def _resolve_parent(self, row, file_by_code, file_by_key, by_code, by_key, row_of_agency):
        printed = row.values.get("parent", "")
        if not printed:
            return
        key = normalize_agency_name(printed)
        row.parent_row = file_by_code.get(printed) or file_by_key.get(key)
        if row.parent_row is not None:
            return
        agency = by_code.get(printed) or by_key.get(key)
        if agency is None:
            row.fail(PARENT, _("找不到「%(parent)s」：檔案與資料庫都沒有這個機關代碼、名稱或別名。") % {"parent": printed})
        elif agency.pk in row_of_agency:
            row.parent_row = row_of_agency[agency.pk]
        else:
            row.parent_agency = agency

    def _check_cycles(self, planned, agencies, row_of_agency, *, has_parents):
        """Walk up from every row through the tree as it would be after the
        import: the file's parents for its rows, the database's for the rest."""

        def node(agency_id):
            return row_of_agency.get(agency_id, agency_id)

        def parent_of(current):
            if isinstance(current, PlannedRow):
                if has_parents:
                    return current.parent_row or (node(current.parent_agency.pk) if current.parent_agency else None)
                return node(current.agency.parent_id) if current.agency and current.agency.parent_id else None
            parent_id = agencies[current].parent_id
            return node(parent_id) if parent_id else None

        def label(current):
            return current.name if isinstance(current, PlannedRow) else agencies[current].name

        for row in planned:
            path, seen, current = [row], {row}, parent_of(row)
            while current is not None and current not in seen:
                path.append(current)
                seen.add(current)
                current = parent_of(current)
            if current is row:
                row.fail(PARENT, _("上級機關形成循環：%(path)s。") % {"path": " → ".join(label(step) for step in [*path, row])})

    def _check_retirement(self, row):
        if IS_ACTIVE in row.errors or RETIRED_ON in row.errors:
            return
        is_active = row.values.get("is_active")
        if is_active is None:
            is_active = row.agency.is_active if row.agency else True
        if "retired_on" in row.values:
            retired_on = row.values["retired_on"]
        else:
            retired_on = row.agency.retired_on if row.agency else None
        if is_active and retired_on:
            column = RETIRED_ON if row.values.get("retired_on") else IS_ACTIVE
            row.fail(column, _("現存機關為「是」時不可填裁撤日期；已裁撤的機關請在「現存機關」填「否」。"))

    @staticmethod
    def _parents_first(planned):
        ordered, placed = [], set()
        for row in planned:
            chain, current = [], row
            while current is not None and current not in placed and current not in chain:
                chain.append(current)
                current = current.parent_row
            for step in reversed(chain):
                placed.add(step)
                ordered.append(step)
        return ordered

    # --- import: one row at a time ----------------------------------------

    def planned_row(self, row) -> PlannedRow:
        return self._planned[row[ROW_NUMBER]]

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        row_result.number = row[ROW_NUMBER]
        return row_result

    def import_instance(self, instance, row, **kwargs):
        planned = self.planned_row(row)
        planned.instance = instance
        if planned.errors:
            raise ValidationError(planned.errors)
        super().import_instance(instance, row, **kwargs)
        if planned.kept_name:
            instance.name = planned.kept_name
        if PARENT in row:
            instance.parent = planned.parent_row.instance if planned.parent_row else planned.parent_agency

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        if self._file_has_errors:
            return True  # a file with a bad row writes nothing
        if instance.pk is None:
            return False
        unchanged = all(getattr(instance, name) == getattr(original, name) for name in _WRITTEN_FIELDS)
        return unchanged and not self.planned_row(row).new_alias_count

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if import_validation_errors:
            raise ValidationError(import_validation_errors)
        # The checks above should leave nothing for the model to refuse; if it
        # does, say so in the same row-and-column words.
        try:
            instance.full_clean(validate_unique=validate_unique)
        except ValidationError as error:
            planned = next(row for row in self._planned.values() if row.instance is instance)
            columns = {field.attribute: field.column_name for field in self.fields.values()}
            for field_name, messages in error.message_dict.items():
                for message in messages:
                    if field_name == NON_FIELD_ERRORS:
                        planned.errors.setdefault(NON_FIELD_ERRORS, []).append(_("第 %(row)d 列：%(problem)s") % {"row": planned.number, "problem": message})
                    else:
                        planned.fail(columns.get(field_name, field_name), message)
            raise ValidationError(planned.errors) from None

    def after_save_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            self._save_names(instance, self.planned_row(row).aliases)

    @staticmethod
    def _save_names(agency, aliases):
        """The official name is the agency's name (an old official name stays as
        an alias); aliases are added, never removed, never stored twice."""
        names = {name.key: name for name in AgencyName.objects.filter(agency=agency)}
        official = next((name for name in names.values() if name.is_official), None)
        key = normalize_agency_name(agency.name)
        wanted = names.get(key)
        if wanted is None or not wanted.is_official:
            if official is not None:
                official.is_official = False
                official.save(update_fields=["is_official"])
            if wanted is None:
                names[key] = AgencyName.objects.create(agency=agency, name=agency.name, is_official=True)
            else:
                wanted.is_official, wanted.name = True, agency.name
                wanted.save(update_fields=["is_official", "name"])
        elif wanted.name != agency.name:
            wanted.name = agency.name
            wanted.save(update_fields=["name"])
        for alias in aliases:
            alias_key = normalize_agency_name(alias)
            if alias_key not in names:
                names[alias_key] = AgencyName.objects.create(agency=agency, name=alias)

    def after_import(self, dataset, result, **kwargs):
        # Not ModelResource's: its sequence reset is for imports that write
        # primary keys, which this one never does.
        for rows in (result.rows, result.invalid_rows, result.error_rows):
            rows.sort(key=lambda row: getattr(row, "number", None) or 0)

    @classmethod
    def get_result_class(cls):
        return AgencyImportResult

    @classmethod
    def get_error_result_class(cls):
        return AgencyImportError

    # --- export -----------------------------------------------------------

    def export(self, queryset=None, **kwargs):
        queryset = self.get_queryset() if queryset is None else queryset
        return super().export(queryset.select_related("parent").prefetch_related("names"), **kwargs)
