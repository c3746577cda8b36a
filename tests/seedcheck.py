"""Compare a plan-112 data file with the table of its seed document.

Plain Python (no Django).  The seed ``000_010bdadd37fe907f.txt`` is a text
extraction of the published table 肆、具體作為 with six tab-separated columns
(具體策略 / 執行措施 / 績效目標 / 辦理機關 / 績效衡量指標 / 112年績效目標值).
A page break cuts a row: the part on the next page is the first row after a
repeated header line, with its leading cells empty.  Cells may hold ``<p>`` and
``<ol>`` markup.

``check_plan_112(data, seed_text)`` rebuilds every table cell of each measure
in ``data`` (the parsed YAML of ``fixtures/plan-112.yaml``) from its fields and
compares it with the seed's cell, ignoring all white space.  It returns one
readable message per mismatch; an empty list means the file matches the seed.
Strategies absent from ``data`` are not checked, so a partial file can be
checked on its own; a seed measure missing from a strategy that is present is
reported.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

__all__ = [
    "COLUMNS",
    "SeedRow",
    "check_plan_112",
    "check_plan_112_by_measure",
    "measure_label",
    "parse_seed_table",
]

COLUMNS = ("具體策略", "執行措施", "績效目標", "辦理機關", "績效衡量指標", "112年績效目標值")
HEADER = "\t".join(COLUMNS)

_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "[一二三四五六七八九十]+"
STRATEGY_RE = re.compile(rf"^\s*({_CN_NUM})、")
MEASURE_RE = re.compile(rf"^\s*([(（]\s*({_CN_NUM})\s*[)）])")
TAG_RE = re.compile(r"<[^>]*>")
WS_RE = re.compile(r"\s+")


def cn_to_int(text: str) -> int:
    """一 → 1, 十 → 10, 十四 → 14, 二十 → 20, 二十三 → 23."""
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if "十" not in text:
        if len(text) != 1:
            raise ValueError(f"unsupported Chinese numeral: {text!r}")
        return _DIGITS[text]
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        raise ValueError(f"unsupported Chinese numeral: {text!r}")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def int_to_cn(n: int) -> str:
    """1 → 一, 10 → 十, 14 → 十四, 20 → 二十."""
    digits = "一二三四五六七八九"
    if not 1 <= n <= 99:
        raise ValueError(f"unsupported number: {n}")
    tens, units = divmod(n, 10)
    out = ""
    if tens:
        out = ("" if tens == 1 else digits[tens - 1]) + "十"
    if units:
        out += digits[units - 1]
    return out


def strip_html(cell: str) -> str:
    """Remove markup; keep the text (tags become a space)."""
    return html.unescape(TAG_RE.sub(" ", cell)).strip()


def squash(text: str) -> str:
    """The text without any white space: what the comparison looks at."""
    return WS_RE.sub("", text or "")


@dataclass
class SeedRow:
    """One measure of the seed table, its page-break chunks joined."""

    strategy: int
    measure: int
    printed_number: str
    cells: list[str] = field(default_factory=lambda: [""] * len(COLUMNS))
    line: int = 0  # line of the seed where the row starts (1-based)

    @property
    def label(self) -> str:
        return measure_label(self.strategy, self.measure)


def measure_label(strategy: int, measure: int) -> str:
    """``1(三)``: strategy number and printed measure number."""
    return f"{strategy}({int_to_cn(measure)})"


def parse_seed_table(seed_text: str) -> list[SeedRow]:
    """Rows of the table 肆、具體作為, one per measure, in printed order."""
    lines = seed_text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == HEADER)
    except StopIteration:
        raise ValueError("seed: table header not found") from None

    rows: list[SeedRow] = []
    strategy = None
    after_header = True
    for lineno, raw in enumerate(lines[start + 1:], start + 2):
        if raw.strip() == HEADER:
            after_header = True
            continue
        if not raw.strip():
            continue
        if "\t" not in raw:  # first line after the table (伍、經費)
            break
        parts = raw.split("\t")
        if len(parts) != len(COLUMNS):
            raise ValueError(f"seed line {lineno}: {len(parts)} cells, expected {len(COLUMNS)}")
        cells = [strip_html(p) for p in parts]
        # The first row after a repeated header continues the previous measure
        # unless it opens a new one: a page break leaves the leading cells empty
        # and the measure cell, if any, without its (一) number.
        is_continuation = (
            after_header and rows and not cells[0] and not MEASURE_RE.match(cells[1])
        )
        after_header = False
        if is_continuation:
            last = rows[-1]
            # The cut falls inside a sentence, so the halves join with nothing.
            last.cells = [a + b for a, b in zip(last.cells, cells)]
            continue
        if cells[0]:
            m = STRATEGY_RE.match(cells[0])
            if not m:
                raise ValueError(f"seed line {lineno}: strategy cell without 一、 prefix")
            strategy = cn_to_int(m.group(1))
        if strategy is None:
            raise ValueError(f"seed line {lineno}: row before the first strategy")
        m = MEASURE_RE.match(cells[1])
        if not m:
            raise ValueError(f"seed line {lineno}: measure cell without (一) prefix")
        rows.append(
            SeedRow(
                strategy=strategy,
                measure=cn_to_int(m.group(2)),
                printed_number=WS_RE.sub("", m.group(1)),
                cells=cells,
                line=lineno,
            )
        )
    return rows


# ---------------------------------------------------------------- rebuilding

def _numbered(items) -> str:
    out = []
    for item in items or []:
        number = item.get("number")
        prefix = "" if number is None else f"{number}."
        out.append(prefix + str(item.get("text") or ""))
    return " ".join(out)


def _values(items) -> str:
    out = []
    for item in items or []:
        number = item.get("number")
        prefix = "" if number is None else f"{number}."
        out.append(str(item.get("heading") or "") + prefix + str(item.get("text") or ""))
    return " ".join(out)


def rebuild_cells(strategy: dict, measure: dict, first_of_strategy: bool) -> list[str]:
    """The six cells of a measure's row, rebuilt from the data file."""
    number = strategy.get("number")
    title = str(strategy.get("title") or "")
    strategy_cell = f"{int_to_cn(number)}、{title}" if first_of_strategy else ""
    return [
        strategy_cell,
        str(measure.get("printed_number") or "") + str(measure.get("text") or ""),
        _numbered(measure.get("targets")),
        str(measure.get("agencies_text") or ""),
        _numbered(measure.get("indicators")),
        _values(measure.get("values")),
    ]


def _first_difference(seed: str, data: str, context: int = 15) -> str:
    a, b = squash(seed), squash(data)
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    lo = max(0, i - context)
    seed_part = ("…" if lo else "") + a[lo:i] + "⟦" + a[i:i + context] + "⟧"
    data_part = ("…" if lo else "") + b[lo:i] + "⟦" + b[i:i + context] + "⟧"
    return (
        f"first difference at character {i + 1} (white space ignored; "
        f"seed {len(a)} chars, data {len(b)} chars):\n"
        f"    seed: {seed_part}\n"
        f"    data: {data_part}"
    )


def check_plan_112_by_measure(data: dict, seed_text: str) -> dict[str, list[str]]:
    """Errors grouped by measure label (``"1(三)"``); ``"plan"`` for the rest."""
    rows = parse_seed_table(seed_text)
    errors: dict[str, list[str]] = {}

    def add(label: str, message: str) -> None:
        errors.setdefault(label, []).append(f"{label}: {message}")

    seed_by_strategy: dict[int, list[SeedRow]] = {}
    for row in rows:
        seed_by_strategy.setdefault(row.strategy, []).append(row)

    strategies = (data or {}).get("strategies") or []
    seen_strategies: set = set()
    for s_index, strategy in enumerate(strategies):
        s_number = strategy.get("number") if isinstance(strategy, dict) else None
        if not isinstance(s_number, int):
            add("plan", f"strategy #{s_index + 1} has no integer number")
            continue
        if s_number in seen_strategies:
            add("plan", f"strategy {s_number} appears twice")
            continue
        seen_strategies.add(s_number)
        seed_rows = seed_by_strategy.get(s_number)
        if not seed_rows:
            add("plan", f"strategy {s_number} is not in the seed")
            continue
        seed_by_measure = {row.measure: row for row in seed_rows}
        first_measure = seed_rows[0].measure

        data_measures: dict[int, dict] = {}
        for m_index, measure in enumerate(strategy.get("measures") or []):
            m_number = measure.get("number") if isinstance(measure, dict) else None
            if not isinstance(m_number, int):
                add("plan", f"strategy {s_number}: measure #{m_index + 1} has no integer number")
                continue
            label = measure_label(s_number, m_number) if 1 <= m_number <= 99 else f"{s_number}(#{m_number})"
            if m_number in data_measures:
                add(label, "measure appears twice in the data")
                continue
            data_measures[m_number] = measure
            if m_number not in seed_by_measure:
                add(label, f"measure {m_number} of strategy {s_number} is not in the seed")

        data_order = [m for m in data_measures]
        seed_order = [row.measure for row in seed_rows]
        if [m for m in data_order if m in seed_by_measure] != [
            m for m in seed_order if m in data_measures
        ]:
            add("plan", f"strategy {s_number}: measures are not in printed order {seed_order}")

        for row in seed_rows:
            measure = data_measures.get(row.measure)
            if measure is None:
                add(row.label, f"measure {row.printed_number} of strategy {s_number} "
                               f"(seed line {row.line}) is missing from the data")
                continue
            rebuilt = rebuild_cells(strategy, measure, row.measure == first_measure)
            for column, seed_cell, data_cell in zip(COLUMNS, row.cells, rebuilt):
                if squash(seed_cell) != squash(data_cell):
                    add(row.label, f"column {column}: " + _first_difference(seed_cell, data_cell))
    return errors


def check_plan_112(data: dict, seed_text: str) -> list[str]:
    """One message per mismatch between ``data`` and the seed table; [] when equal."""
    out: list[str] = []
    for messages in check_plan_112_by_measure(data, seed_text).values():
        out.extend(messages)
    return out
