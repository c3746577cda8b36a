"""Reading the YAML data files in fixtures/ and writing them idempotently.

A file is read and checked completely before anything is written; the write
happens in one transaction and touches only rows whose content differs, so
loading the same file twice changes nothing. ``sync_rows`` writes the rows of one
scope; ``sync_bulk`` those of many scopes at once (a whole plan's values, say) in a
handful of queries. Any problem stops the load with
one message naming the file, the entry and the problem.
"""

import datetime
import functools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import models
from django.utils.translation import gettext as _


class DataFileError(Exception):
    """A data file cannot be loaded; the message says where and why."""

    def __init__(self, path, entry: str, problem: str):
        self.path, self.entry, self.problem = str(path), entry, problem
        super().__init__(f"{self.path}: {entry}: {problem}" if entry else f"{self.path}: {problem}")


@dataclass
class LoadStats:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return any((self.created, self.updated, self.deleted))

    def summary(self) -> str:
        return _("新增 %(created)d 筆、更新 %(updated)d 筆、刪除 %(deleted)d 筆") % {
            "created": sum(self.created.values()),
            "updated": sum(self.updated.values()),
            "deleted": sum(self.deleted.values()),
        }


def sync_rows(
    model: type[models.Model],
    scope: dict,
    key_fields: tuple[str, ...],
    rows: list[dict],
    stats: LoadStats,
    *,
    delete_missing: bool = True,
) -> dict:
    """Make the rows of ``model`` within ``scope`` equal ``rows``; return them by key.

    Rows are matched on ``key_fields``; only differing fields are written, and
    rows no longer in the file are deleted first so that renumbering cannot
    collide with a stale row.
    """
    label = str(model._meta.verbose_name)
    existing = {tuple(getattr(obj, name) for name in key_fields): obj for obj in model.objects.filter(**scope)}
    wanted_keys = {tuple(row[name] for name in key_fields) for row in rows}
    for key in [key for key in existing if key not in wanted_keys and delete_missing]:
        existing.pop(key).delete()
        stats.deleted[label] += 1
    result = {}
    for row in rows:
        key = tuple(row[name] for name in key_fields)
        obj = existing.get(key)
        if obj is None:
            obj = model.objects.create(**scope, **row)
            stats.created[label] += 1
        else:
            changed = [name for name, value in row.items() if getattr(obj, name) != value]
            if changed:
                for name in changed:
                    setattr(obj, name, row[name])
                obj.save(update_fields=changed)
                stats.updated[label] += 1
        result[key] = obj
    return result


DELETE_BATCH = 500  # primary keys per DELETE, well within every backend's parameter limit


def sync_bulk(
    model: type[models.Model],
    existing: models.QuerySet,
    key_fields: tuple[str, ...],
    rows: list[dict],
    stats: LoadStats | Callable[[tuple], LoadStats],
    *,
    delete_missing: bool = True,
) -> dict[tuple, int]:
    """``sync_rows`` for many scopes at once; return the primary keys by key.

    ``existing`` holds every stored row the file covers (read in one query), and each
    row carries its scope (``measure_id``, say) among ``key_fields``. As in sync_rows,
    only differing fields are written and rows no longer in the file are deleted first,
    so that renumbering cannot collide with a stale row; then the changed rows are
    updated, one query per set of changed fields, and the new ones created in bulk.
    ``stats`` may be a function of the key, for counts kept apart (per year, say).
    """
    label = str(model._meta.verbose_name)
    stats_for = stats if callable(stats) else (lambda key: stats)
    wanted = [(tuple(row[name] for name in key_fields), row) for row in rows]
    names = list(dict.fromkeys([*key_fields, *(name for row in rows for name in row)]))
    stored = {tuple(row[name] for name in key_fields): row for row in existing.order_by().values("pk", *names)}
    if delete_missing:
        wanted_keys = {key for key, _row in wanted}
        stale = [key for key in stored if key not in wanted_keys]
        pks = [stored.pop(key)["pk"] for key in stale]
        for start in range(0, len(pks), DELETE_BATCH):
            model.objects.filter(pk__in=pks[start:start + DELETE_BATCH]).delete()
        for key in stale:
            stats_for(key).deleted[label] += 1
    result, updates, creates = {}, defaultdict(list), []
    for key, row in wanted:
        current = stored.get(key)
        if current is None:
            creates.append((key, model(**row)))
            continue
        changed = tuple(name for name, value in row.items() if current[name] != value)
        if changed:
            updates[changed].append(model(pk=current["pk"], **{name: row[name] for name in changed}))
            stats_for(key).updated[label] += 1
        result[key] = current["pk"]
    for fields, objs in updates.items():
        model.objects.bulk_update(objs, fields)
    if creates:
        model.objects.bulk_create([obj for _key, obj in creates])
        if any(obj.pk is None for _key, obj in creates):  # a backend that cannot return them
            stored = {tuple(row[name] for name in key_fields): row["pk"] for row in existing.order_by().values("pk", *key_fields)}
            for key, obj in creates:
                obj.pk = stored[key]
        for key, obj in creates:
            result[key] = obj.pk
            stats_for(key).created[label] += 1
    return result


def read_yaml(path: Path):
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise DataFileError(path, "", _("找不到檔案。")) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = _("第 %(line)d 行") % {"line": mark.line + 1} if mark else ""
        raise DataFileError(path, where, _("YAML 格式錯誤：%(problem)s") % {"problem": getattr(error, "problem", error)}) from None


class FieldReader:
    """Typed access to one mapping of the file, with errors that say where."""

    def __init__(self, path, entry: str, data, allowed: set[str]):
        self.path, self.entry = path, entry
        if not isinstance(data, dict):
            self.fail(_("應為欄位對應（mapping），實際為 %(type)s。") % {"type": type(data).__name__})
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(_("不認得的欄位：%(keys)s。") % {"keys": "、".join(map(str, unknown))})
        self.data = data

    def fail(self, problem):
        raise DataFileError(self.path, self.entry, problem)

    def text(self, key, required=True, default=""):
        value = self.data.get(key, default)
        if value is None:
            value = default
        if not isinstance(value, str):
            self.fail(_("欄位 %(key)s 應為文字。") % {"key": key})
        value = value.strip()
        if required and not value:
            self.fail(_("缺少欄位 %(key)s。") % {"key": key})
        return value

    def integer(self, key, required=True):
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(_("缺少欄位 %(key)s。") % {"key": key})
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(_("欄位 %(key)s 應為正整數，實際為「%(value)s」。") % {"key": key, "value": value})
        return value

    def items(self, key):
        value = self.data.get(key) or []
        if not isinstance(value, list):
            self.fail(_("欄位 %(key)s 應為清單。") % {"key": key})
        return value

    def choice(self, key, choices, default=None):
        value = self.data.get(key) or default
        valid = _choice_values(choices)
        if value not in valid:
            self.fail(_("欄位 %(key)s 的值「%(value)s」不在允許範圍（%(valid)s）。") % {"key": key, "value": value, "valid": "、".join(v for v in valid if v)})
        return value

    def date(self, key):
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            self.fail(_("欄位 %(key)s 應為日期（YYYY-MM-DD），實際為「%(value)s」。") % {"key": key, "value": value})


@functools.cache
def _choice_values(choices) -> list[str]:
    """The values of a choices class, worked out once (Django builds the list anew on every access)."""
    return [str(c) for c in choices.values]


def require_unique(reader: "FieldReader", numbers, what: str):
    duplicates = sorted(n for n, count in Counter(n for n in numbers if n is not None).items() if count > 1)
    if duplicates:
        reader.fail(_("%(what)s編號重複：%(numbers)s。") % {"what": what, "numbers": "、".join(map(str, duplicates))})
