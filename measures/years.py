"""ROC (民國) years: what users read and type. 民國112年 is 2023."""

import re
import unicodedata

from django.utils.translation import gettext as _

ROC_OFFSET = 1911
_ROC_INPUT = re.compile(r"^(?:民國)?\s*(\d{1,3})\s*年?$")


def roc_to_gregorian(roc_year: int) -> int:
    return roc_year + ROC_OFFSET


def gregorian_to_roc(year: int) -> int:
    return year - ROC_OFFSET


def roc_label(roc_year) -> str:
    if roc_year in (None, ""):
        return ""
    return _("民國%(roc)d年（%(year)d）") % {"roc": int(roc_year), "year": roc_to_gregorian(int(roc_year))}


def parse_roc_year(text: str) -> int:
    """Accept 「112」, 「民國112年」, 「112年」, full-width digits, or a Gregorian 「2023」."""
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    if re.fullmatch(r"\d{4}", cleaned) and int(cleaned) > ROC_OFFSET:
        return gregorian_to_roc(int(cleaned))
    match = _ROC_INPUT.match(cleaned)
    if not match or int(match[1]) < 1:
        raise ValueError(_("「%(text)s」不是有效的民國年度（例如 112 或 民國112年）。") % {"text": text})
    return int(match[1])


def roc_date_label(day) -> str:
    """2023-11-30 → 「民國112年11月30日」."""
    if not day:
        return ""
    return _("民國%(year)d年%(month)d月%(day)d日") % {"year": day.year - ROC_OFFSET, "month": day.month, "day": day.day}
