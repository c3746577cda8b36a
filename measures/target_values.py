"""Reading a target value as people type it (a proposal, a revision, a row of the year's sheet).

Every problem is a zh-Hant message keyed by the field it concerns, so a form shows
it in place and a spreadsheet row names its cell. Numbers may be typed as the plan
prints them (「1萬5,000」, full-width digits, thousands separators).
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import TargetValue, breakdown_sum_error
from .numbers import FigureError, parse_chinese_number
from .years import ROC_OFFSET, parse_date_input

# Fields a person sets on a value; the rest (numbering, links) is carried over.
VALUE_INPUT_FIELDS = ("text", "kind", "quantity", "unit", "comparator", "grade", "due_on", "note", "shares")
FIELD_LABELS = {
    "text": gettext_lazy("目標值"),
    "kind": gettext_lazy("類型"),
    "quantity": gettext_lazy("數值"),
    "unit": gettext_lazy("單位"),
    "comparator": gettext_lazy("比較方式"),
    "grade": gettext_lazy("等級"),
    "due_on": gettext_lazy("完成期限"),
    "note": gettext_lazy("說明"),
    "shares": gettext_lazy("機關分配"),
    "reason": gettext_lazy("修正理由"),
}
_GRADE = re.compile(r"^[A-Z][+-]?$")


class TargetValueInputError(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(f"{FIELD_LABELS.get(k, k)}：{v}" for k, v in errors.items()))


def parse_quantity(raw) -> Decimal | None:
    """「320」「1萬5,000」「１，２００」「80%」's 80 → Decimal; a negative or a word is refused."""
    if raw is None:
        return None
    if isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(str(raw))
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace("，", ",").replace(" ", "").rstrip("%")
        if text == "":
            return None
        if text.startswith("-"):
            raise TargetValueInputError({"quantity": _("不可為負數。")})
        try:
            value = parse_chinese_number(text)
        except FigureError:
            raise TargetValueInputError({"quantity": _("「%(text)s」不是數字（可寫 320、1,200 或 1萬5,000）。") % {"text": raw}}) from None
    if value < 0:
        raise TargetValueInputError({"quantity": _("不可為負數。")})
    return value


def parse_due_date(raw) -> datetime.date | None:
    """ISO dates and ROC dates (113/11/30, 民國113年11月30日)."""
    try:
        return parse_date_input(raw)
    except ValueError as error:
        raise TargetValueInputError({"due_on": str(error)}) from None


def figure_text(quantity: Decimal | None, unit: str) -> str:
    """The figure as the plan would print it: 「320 案」, 「80%」, 「1,250 家」."""
    if quantity is None:
        return ""
    number = f"{quantity.normalize():,f}"
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}".strip()


def plain_decimal(value: Decimal | None) -> str:
    """"300", never "3E+2"."""
    return "" if value is None else format(value.normalize(), "f")


@dataclass
class CleanValue:
    text: str
    kind: str
    quantity: Decimal | None
    unit: str
    comparator: str
    grade: str
    due_on: datetime.date | None
    note: str
    shares: list[dict]  # [{"agency_id": 3, "quantity": Decimal("6")}]

    @property
    def figure(self) -> str:
        return figure_text(self.quantity, self.unit)

    def as_fields(self) -> dict:
        return {
            "text": self.text, "kind": self.kind, "quantity": self.quantity, "unit": self.unit, "comparator": self.comparator,
            "grade": self.grade, "due_on": self.due_on, "note": self.note, "figure": self.figure,
        }


def clean_value_input(*, data: dict, year: int) -> CleanValue:
    """Check one value of ``year`` as typed; raise TargetValueInputError naming every bad field."""
    errors: dict[str, str] = {}
    kind = (data.get("kind") or "").strip()
    if kind not in TargetValue.Kind.values:
        labels = {str(label): value for value, label in TargetValue.Kind.choices}
        kind = labels.get(kind, kind)
    if kind not in TargetValue.Kind.values:
        errors["kind"] = _("類型須為：%(choices)s。") % {"choices": "、".join(str(label) for _value, label in TargetValue.Kind.choices)}
    text = " ".join(str(data.get("text") or "").split())
    if not text:
        errors["text"] = _("請填寫目標值文字。")
    unit = unicodedata.normalize("NFKC", str(data.get("unit") or "")).strip()
    comparator = (data.get("comparator") or "").strip()
    grade = unicodedata.normalize("NFKC", str(data.get("grade") or "")).strip().upper()
    quantity, due_on, shares = None, None, []
    try:
        quantity = parse_quantity(data.get("quantity"))
    except TargetValueInputError as error:
        errors.update(error.errors)
    try:
        due_on = parse_due_date(data.get("due_on"))
    except TargetValueInputError as error:
        errors.update(error.errors)
    kind_label = TargetValue.Kind(kind).label if kind in TargetValue.Kind.values else kind
    if kind in TargetValue.NUMERIC_KINDS:
        if quantity is None and "quantity" not in errors:
            errors["quantity"] = _("%(kind)s類目標值須填寫數值。") % {"kind": kind_label}
        if not unit:
            errors["unit"] = _("%(kind)s類目標值須填寫單位（例如 案、場、%%、元）。") % {"kind": kind_label}
        comparator = comparator or TargetValue.Comparator.AT_LEAST
        if comparator not in TargetValue.Comparator.values:
            errors["comparator"] = _("比較方式須為：%(choices)s。") % {"choices": "、".join(str(label) for _value, label in TargetValue.Comparator.choices)}
        if quantity is not None and kind == TargetValue.Kind.COUNT and quantity != quantity.to_integral_value():
            errors["quantity"] = _("數量須為整數（「%(value)s」）。") % {"value": plain_decimal(quantity)}
        if quantity is not None and kind == TargetValue.Kind.RATIO and unit == "%" and quantity > 100:
            errors["quantity"] = _("比率不可超過 100%%（「%(value)s」）。") % {"value": plain_decimal(quantity)}
        shares = _shares(data.get("shares") or [], quantity, errors)
    elif kind in TargetValue.Kind.values:  # an unknown kind is reported once, not per field
        if quantity is not None and "quantity" not in errors:
            errors["quantity"] = _("%(kind)s類目標值不填數值。") % {"kind": kind_label}
        unit, comparator = "", ""
    if kind == TargetValue.Kind.GRADE:
        if not grade:
            errors["grade"] = _("等級類目標值須填寫等級（例如 A）。")
        elif not _GRADE.match(grade):
            errors["grade"] = _("等級「%(grade)s」應為一個英文字母（可加 + 或 -）。") % {"grade": grade}
    else:
        grade = ""
    if kind == TargetValue.Kind.MILESTONE:
        if due_on is None and "due_on" not in errors:
            errors["due_on"] = _("里程碑類目標值須填寫完成期限。")
        elif due_on is not None and due_on.year < year + ROC_OFFSET:
            errors["due_on"] = _("完成期限不可早於民國%(year)d年。") % {"year": year}
    elif kind in TargetValue.Kind.values:  # an unknown kind is reported once, not per field
        due_on = None
    if errors:
        raise TargetValueInputError(errors)
    return CleanValue(
        text=text, kind=kind, quantity=quantity, unit=unit, comparator=comparator, grade=grade, due_on=due_on,
        note=str(data.get("note") or "").strip(), shares=shares,
    )


def _shares(raw_shares, quantity, errors) -> list[dict]:
    shares, seen = [], set()
    for raw in raw_shares:
        share_quantity = raw.get("quantity")
        try:
            share_quantity = parse_quantity(share_quantity)
        except TargetValueInputError:
            errors["shares"] = _("機關分配數「%(text)s」不是數字。") % {"text": raw.get("quantity")}
            return []
        if share_quantity is None:
            continue  # a blank share is dropped
        if share_quantity <= 0:
            errors["shares"] = _("機關分配數必須大於零。")
            return []
        if raw["agency_id"] in seen:
            errors["shares"] = _("同一機關只能分配一次。")
            return []
        seen.add(raw["agency_id"])
        shares.append({"agency_id": raw["agency_id"], "quantity": share_quantity})
    if quantity is not None and (message := breakdown_sum_error(quantity, [s["quantity"] for s in shares])):
        errors["shares"] = str(message)
    return shares
