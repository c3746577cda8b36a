"""Reading figures as the plan prints them: 「1 萬 5,000 件」, 「1億6千萬元」, 「80%」.

Taiwanese documents mix Arabic digits, thousands separators, full-width digits
and the large-number characters 萬 (10⁴) and 億 (10⁸), with 千/百/十 inside a
萬 group (「6千萬」 = 6 × 1000 × 10⁴).
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS = {"萬": 10**4, "億": 10**8}
_NUMBER = re.compile(r"^(?P<number>[0-9][0-9,.]*(?:[十百千萬億][0-9,.]*)*)(?P<unit>.*)$")


class FigureError(ValueError):
    pass


@dataclass(frozen=True)
class Figure:
    quantity: Decimal
    unit: str


_DIGIT_RUN = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


def _digits(text: str) -> Decimal:
    if not text:
        return Decimal(1)  # 「千萬」 means one thousand 萬
    if not _DIGIT_RUN.match(text):  # "1,2,3" is not a thousands-separated number
        raise FigureError(text)
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as error:
        raise FigureError(text) from error


def parse_chinese_number(text: str) -> Decimal:
    """「1萬5,000」 → 15000; 「1億6千萬」 → 160000000; 「4,600」 → 4600."""
    total = Decimal(0)
    group = Decimal(0)  # the part below the next 萬/億
    pending = ""
    for char in text:
        if char.isdigit() or char in ",.":
            pending += char
        elif char in _SMALL_UNITS:
            group += _digits(pending) * _SMALL_UNITS[char]
            pending = ""
        elif char in _LARGE_UNITS:
            group += _digits(pending) if pending else Decimal(0)
            total += (group or Decimal(1)) * _LARGE_UNITS[char]
            group, pending = Decimal(0), ""
        else:
            raise FigureError(text)
    if pending:
        group += _digits(pending)
    return total + group


def parse_figure(printed: str) -> Figure:
    """Split a printed figure into quantity and unit: 「550萬人次」 → 5500000, 人次."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", printed or ""))
    text = text.removeprefix("約").removeprefix("達").removeprefix("至少")
    match = _NUMBER.match(text)
    if not match:
        raise FigureError(printed)
    unit = match["unit"].removesuffix("以上").removesuffix("以下")
    if not unit:
        raise FigureError(printed)
    return Figure(quantity=parse_chinese_number(match["number"]), unit=unit)


def format_quantity(quantity: Decimal | None) -> str:
    """15000 → 「15,000」; 80.0000 → 「80」."""
    if quantity is None:
        return ""
    normalized = quantity.normalize()
    if normalized == normalized.to_integral():
        return f"{int(normalized):,}"
    return f"{normalized:,f}"


def figure_label(quantity: Decimal | None, unit: str = "", *, ratio: bool = False, places: int | None = None) -> str:
    """A figure as people write it, the one way every page shows one: thousands separators,
    decimals only where the figure has them, then its unit written on as Chinese does; a ratio
    as a percentage to one decimal. 1772377.0000, "元" → 「1,772,377元」; 89.2857, ratio →
    「89.3%」; None → ""."""
    if quantity is None:
        return ""
    quantity = Decimal(quantity)
    if ratio:
        return f"{format_quantity(quantity.quantize(Decimal('0.1')))}%"
    if places is not None:
        quantity = quantity.quantize(Decimal(1).scaleb(-places))
    return f"{format_quantity(quantity)}{(unit or '').strip()}"


_CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_numeral(number: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十: how the plan numbers strategies and measures."""
    if not 0 < number < 100:
        return str(number)
    tens, units = divmod(number, 10)
    prefix = "" if tens == 0 else ("十" if tens == 1 else _CHINESE_DIGITS[tens] + "十")
    return prefix + (_CHINESE_DIGITS[units] if units else "")
