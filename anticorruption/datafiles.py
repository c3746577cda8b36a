"""Reading the YAML data files in fixtures/ and writing them idempotently.

A file is read and checked completely before anything is written; the write
happens in one transaction and touches only rows whose content differs, so
loading the same file twice changes nothing. Any problem stops the load with
one message naming the file, the entry and the problem.
"""

import datetime
from collections import Counter
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
        valid = [str(c) for c in choices.values]
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


def require_unique(reader: "FieldReader", numbers, what: str):
    duplicates = sorted(n for n, count in Counter(n for n in numbers if n is not None).items() if count > 1)
    if duplicates:
        reader.fail(_("%(what)s編號重複：%(numbers)s。") % {"what": what, "numbers": "、".join(map(str, duplicates))})
