"""Reading what officers type into an entry, per kind of value.

Taiwanese input methods produce full-width digits (０１２３) and people type
thousands separators; both are accepted. Every problem is a zh-Hant message
keyed by the field it concerns, so forms and spreadsheet rows can show it in place.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from measures.years import parse_date_input

from .models import Entry

# Fields each kind of entry uses; the others are cleared when saving.
KIND_FIELDS = {
    "quantity": ("quantity",),
    "ratio": ("numerator", "denominator"),
    "milestone": ("milestone", "reached_on"),
    "grade": ("grade",),
    "text": ("text",),
}
VALUE_FIELDS = ("quantity", "numerator", "denominator", "milestone", "reached_on", "grade", "text")
FIELD_LABELS = {
    "quantity": _("數值"),
    "numerator": _("分子"),
    "denominator": _("分母"),
    "milestone": _("辦理進度"),
    "reached_on": _("完成日期"),
    "grade": _("等級"),
    "text": _("辦理情形"),
    "narrative": _("執行情形"),
    "shortfall_reason": _("未達成原因及策進作為"),
}
_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$")


class EntryValueError(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{FIELD_LABELS.get(k, k)}：{v}" for k, v in errors.items()))


def parse_number(raw, *, field: str):
    """「１，２３４」「1,234」「12.5」 → Decimal; letters and negatives are refused."""
    if raw is None:
        return None
    if isinstance(raw, (int, float, Decimal)):
        value = Decimal(str(raw))
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace("，", ",").replace(" ", "")
        if text == "":
            return None
        if text.startswith("-"):
            raise EntryValueError({field: _("不可為負數。")})
        if not _NUMBER.match(text):
            raise EntryValueError({field: _("「%(text)s」不是數字，請只輸入數字（可含千分位逗號）。") % {"text": raw}})
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise EntryValueError({field: _("「%(text)s」不是數字。") % {"text": raw}}) from None
    if value < 0:
        raise EntryValueError({field: _("不可為負數。")})
    return value


def parse_date(raw, *, field: str):
    """ISO dates and ROC dates (112/05/01, 民國112年5月1日)."""
    try:
        return parse_date_input(raw)
    except ValueError as error:
        raise EntryValueError({field: str(error)}) from None


def clean_entry_values(*, kind: str, data: dict, period, unit: str = "") -> dict:
    """Validate the value fields for ``kind``; return them cleaned, others emptied."""
    errors: dict[str, str] = {}
    cleaned: dict = {name: None for name in ("quantity", "numerator", "denominator", "reached_on")}
    cleaned.update(milestone="", grade="", text="")

    def attempt(name, parser, **kwargs):
        try:
            cleaned[name] = parser(data.get(name), field=name, **kwargs)
        except EntryValueError as error:
            errors.update(error.errors)

    if kind == "quantity":
        attempt("quantity", parse_number)
        if unit == "%" and cleaned["quantity"] is not None and cleaned["quantity"] > 100:
            errors["quantity"] = _("百分比不可超過 100%。")
    elif kind == "ratio":
        attempt("numerator", parse_number)
        attempt("denominator", parse_number)
        numerator, denominator = cleaned["numerator"], cleaned["denominator"]
        if denominator is not None and denominator == 0:
            errors["denominator"] = _("分母不可為 0。")
        elif numerator is not None and denominator is not None and numerator > denominator:
            errors["numerator"] = _("分子（%(n)s）不可大於分母（%(d)s），比率不可超過 100%%。") % {"n": f"{numerator:g}", "d": f"{denominator:g}"}
        elif (numerator is None) != (denominator is None):
            errors["denominator" if denominator is None else "numerator"] = _("分子與分母須一併填寫。")
    elif kind == "milestone":
        status = (data.get("milestone") or "").strip()
        if status and status not in Entry.Milestone.values:
            labels = {label: value for value, label in Entry.Milestone.choices}
            status = labels.get(status, status)
        if status and status not in Entry.Milestone.values:
            errors["milestone"] = _("辦理進度須為：%(choices)s。") % {"choices": "、".join(str(label) for _, label in Entry.Milestone.choices)}
        cleaned["milestone"] = status
        attempt("reached_on", parse_date)
        reached = cleaned["reached_on"]
        if reached and not (period.starts_on <= reached <= period.ends_on):
            errors["reached_on"] = _("完成日期須在本期間內（%(start)s 至 %(end)s）。") % {"start": period.starts_on.isoformat(), "end": period.ends_on.isoformat()}
        if status == Entry.Milestone.DONE and not reached and "reached_on" not in errors:
            errors["reached_on"] = _("已完成的項目請填寫完成日期。")
        if reached and status != Entry.Milestone.DONE and "reached_on" not in errors:
            errors["milestone"] = _("填寫完成日期時，辦理進度應為「已完成」。")
    elif kind == "grade":
        cleaned["grade"] = unicodedata.normalize("NFKC", str(data.get("grade") or "")).strip().upper()[:10]
    else:
        cleaned["text"] = str(data.get("text") or "").strip()
    if errors:
        raise EntryValueError(errors)
    return cleaned
