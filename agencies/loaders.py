"""Load fixtures/agencies.yaml: every body the plans name, with aliases and parents."""

from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from anticorruption.datafiles import DataFileError, FieldReader, LoadStats, read_yaml, sync_rows

from .models import Agency, AgencyName
from .naming import normalize_agency_name, resolve_agency_name


class AgencyDirectory:
    """All agency names in one query, resolved with the rules of agencies.naming."""

    def __init__(self):
        self.by_key = {row.key: row.agency for row in AgencyName.objects.select_related("agency")}

    def resolve(self, printed: str) -> list[Agency]:
        return resolve_agency_name(printed, self.by_key.get)


def load_agencies(path) -> LoadStats:
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, list):
        raise DataFileError(path, "", _("檔案內容應為機關清單。"))
    records, owner_of_key = [], {}
    for index, raw in enumerate(data, start=1):
        entry = _("第 %(n)d 筆機關") % {"n": index}
        reader = FieldReader(path, entry, raw, {"name", "short_name", "code", "parent", "aliases", "collective", "kind", "has_integrity_unit", "note"})
        name = reader.text("name")
        reader.entry = f"{entry}（{name}）"
        aliases = reader.items("aliases")
        if not all(isinstance(alias, str) and alias.strip() for alias in aliases):
            reader.fail(_("別名應為非空白文字。"))
        if any(record["name"] == name for record in records):
            reader.fail(_("機關名稱重複。"))
        distinct_aliases = {}
        for printed in [name, *aliases]:
            key = normalize_agency_name(printed)
            if key in owner_of_key and owner_of_key[key] != name:
                reader.fail(_("名稱「%(printed)s」已屬於「%(other)s」。") % {"printed": printed, "other": owner_of_key[key]})
            owner_of_key[key] = name
            if printed is not name:
                distinct_aliases.setdefault(key, printed.strip())
        distinct_aliases.pop(normalize_agency_name(name), None)
        records.append(
            {
                "name": name,
                "short_name": reader.text("short_name", required=False),
                "parent": reader.text("parent", required=False),
                "aliases": list(distinct_aliases.values()),
                "collective": reader.choice("collective", Agency.Collective, default=""),
                "kind": reader.choice("kind", Agency.Kind, default=Agency.Kind.CENTRAL),
                "code": reader.text("code", required=False),
                "has_integrity_unit": bool(raw.get("has_integrity_unit", True)) and not raw.get("collective"),
                "note": reader.text("note", required=False),
                "entry": reader.entry,
            }
        )
    names = {record["name"] for record in records}
    parents = {}
    for record in records:
        if record["parent"] and record["parent"] not in names:
            raise DataFileError(path, record["entry"], _("上級機關「%(parent)s」不在檔案中。") % {"parent": record["parent"]})
        parents[record["name"]] = record["parent"] or None
    for record in records:  # a cycle would make the tree unwalkable
        seen, current = set(), record["name"]
        while current:
            if current in seen:
                raise DataFileError(path, record["entry"], _("上級機關形成循環。"))
            seen.add(current)
            current = parents[current]

    stats = LoadStats()
    try:
        with transaction.atomic():
            _write_agencies(records, stats)
    except IntegrityError as error:
        raise DataFileError(path, "", _("資料庫拒絕寫入：%(error)s") % {"error": error}) from None
    return stats


def _write_agencies(records, stats):
    known_before = set(Agency.objects.values_list("name", flat=True))
    # Agencies absent from the file are kept: plans and reports may point at them.
    agencies = sync_rows(
        Agency, {}, ("name",),
        [{key: record[key] for key in ("name", "short_name", "code", "collective", "kind", "has_integrity_unit", "note")} for record in records],
        stats, delete_missing=False,
    )
    for record in records:
        agency = agencies[(record["name"],)]
        parent_id = agencies[(record["parent"],)].pk if record["parent"] else None
        if agency.parent_id != parent_id:
            agency.parent_id = parent_id
            agency.save(update_fields=["parent"])
            if agency.name in known_before:  # a new record getting its parent is not an update
                stats.updated[str(Agency._meta.verbose_name)] += 1
        names = [{"name": record["name"], "is_official": True}] + [{"name": alias, "is_official": False} for alias in record["aliases"]]
        sync_rows(AgencyName, {"agency": agency}, ("name",), names, stats)
