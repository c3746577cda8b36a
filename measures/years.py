"""ROC (民國) years: what users read and type. 民國112年 is 2023."""

import datetime
import re
import unicodedata

from django.utils.translation import gettext as _

ROC_OFFSET = 1911
_ROC_INPUT = re.compile(r"^(?:民國)?\s*(\d{1,3})\s*年?$")
_ROC_DATE = re.compile(r"^(?:民國)?(\d{2,3})[年/.-](\d{1,2})[月/.-](\d{1,2})日?$")


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


def parse_date_input(raw) -> datetime.date | None:
    """A date as people type it: ISO (2023-05-01) or ROC (112/05/01, 民國112年5月1日), full-width
    digits too; blank is None. Raises ValueError with a zh-Hant message."""
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    if match := _ROC_DATE.match(text):
        try:
            return datetime.date(int(match[1]) + ROC_OFFSET, int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(_("「%(text)s」不是有效日期（例如 112/05/01 或 2023-05-01）。") % {"text": raw})
