"""fixtures/plan-101.yaml rebuilds every table row of its seed, cell by cell.

The seed (002_…, 修正國家廉政建設行動方案第肆點、第陸點) prints one table per area
(一、… 八、) with the columns 具體策略 / 執行措施 / 績效目標 / 辦理機關. For each
row the fixture must give back the same four cells, white space ignored:

* strategy: printed_number + title (first row of a strategy only), preceded by the
  group label 「(一)肅貪：」 where the seed prints the label inside that cell;
* measure: printed_number + text;
* targets: "N." + text for each target (just text when unnumbered);
* agencies_text.

No Django needed: run with ``python3 -m pytest -p no:django -q tests/...``.
"""

import re
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve()
SEED = HERE.parents[2] / "shared" / "seeds" / "002_91b28b5f74d1556d.txt"
FIXTURE = HERE.parents[1] / "fixtures" / "plan-101.yaml"

CN = "一二三四五六七八九十"
TAG = re.compile(r"</?[A-Za-z][^>]*>")
WHITE = re.compile(r"\s+")
AREA_HEADING = re.compile(r"^([一二三四五六七八九十])、(\S.*)$")
STRATEGY_NUMBER = re.compile(r"^(\d+\.|\([一二三四五六七八九十]+\))")
MEASURE_NUMBER = re.compile(r"^\d+\.")
# 「(一)肅貪：」 printed in front of the first strategy of a group
INLINE_GROUP = re.compile(r"^\(([一二三四五六七八九十]+)\)([^：，。()]{1,10})：")
HEADER_GROUP = re.compile(r"^\(([一二三四五六七八九十]+)\)([^：，。()]{1,10})$")
COLUMNS = ("strategy", "measure", "targets", "agencies_text")

# The extraction lost one tab in area 八 (一): the measure cell runs on into the
# target cell. Split it back where the target starts.
MERGED_TARGET = "定期統計參加國際廉政會議及論壇次數。"


def squash(text):
    """Tags stripped, all white space removed: what the comparison looks at."""
    return WHITE.sub("", TAG.sub("", text or ""))


def cn_number(numeral):
    return CN.index(numeral) + 1


def read_seed_tables():
    """{area number: (title, [chunk, …])}; a chunk is a list of 4-cell rows."""
    areas = {}
    current = None
    repaired = 0
    for line in SEED.read_text(encoding="utf-8").split("\n"):
        heading = AREA_HEADING.match(line)
        if heading and "\t" not in line:
            current = []
            areas[cn_number(heading.group(1))] = (heading.group(2).strip(), current)
            continue
        if line.startswith("陸、"):
            current = None
        if current is None or line.startswith("具體策略\t") or line.startswith("--"):
            continue
        if not line.strip():
            if current and current[-1]:
                current.append([])
            continue
        cells = line.split("\t")
        if len(cells) == 3 and MERGED_TARGET in cells[1]:
            cut = cells[1].index(MERGED_TARGET)
            cells = [cells[0], cells[1][:cut], cells[1][cut:], cells[2]]
            repaired += 1
        assert len(cells) == 4, f"seed row with {len(cells)} cells: {line[:60]}"
        if not current:
            current.append([])
        current[-1].append([squash(c) for c in cells])
    assert repaired == 1, "the known merged-cell defect in area 八 was not found exactly once"
    return areas


def join_chunks(chunks):
    """Rows of one area with page-break continuations joined back, column by column.

    The first row of a later chunk continues the row before it unless it starts a
    new strategy (a printed strategy number) or a new measure (「N.」)."""
    rows = []
    for chunk_no, chunk in enumerate(chunks):
        for row_no, cells in enumerate(chunk):
            starts_item = STRATEGY_NUMBER.match(cells[0]) or MEASURE_NUMBER.match(cells[1])
            if chunk_no and not row_no and rows and not starts_item:
                rows[-1] = [before + after for before, after in zip(rows[-1], cells)]
            else:
                rows.append(list(cells))
    return rows


def seed_rows():
    """Seed rows keyed by (area, group, strategy position, measure position).

    Also returns the group labels as the seed prints them, by (area, group), and
    which groups the seed labels inside the first strategy cell."""
    rows, group_labels, inline_groups, area_titles = {}, {}, set(), {}
    for area, (title, chunks) in read_seed_tables().items():
        area_titles[area] = title
        group, strategy, measure, counters = None, 0, 0, {}
        for cells in join_chunks(chunks):
            header = HEADER_GROUP.match(cells[0])
            if header and not any(cells[1:]):
                group = cn_number(header.group(1))
                group_labels[(area, group)] = cells[0]
                continue
            if cells[0]:
                inline = INLINE_GROUP.match(cells[0])
                if inline:
                    group = cn_number(inline.group(1))
                    group_labels[(area, group)] = inline.group(0)[:-1]
                    inline_groups.add((area, group))
                counters[group] = counters.get(group, 0) + 1
                strategy, measure = counters[group], 0
            assert strategy, f"area {area}: measure row before any strategy: {cells}"
            measure += 1
            rows[(area, group, strategy, measure)] = cells
    return rows, group_labels, inline_groups, area_titles


def row_order(key):
    area, group, strategy, measure = key
    return (area, group or 0, strategy, measure)


def rebuilt_targets(targets):
    return "".join(
        (f"{t['number']}." if t.get("number") is not None else "") + t["text"] for t in targets
    )


@pytest.fixture(scope="module")
def seed():
    if not SEED.exists():
        pytest.skip(f"seed not found: {SEED.name}")
    return seed_rows()


@pytest.fixture(scope="module")
def plan():
    return yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))


def group_title(plan, area, group):
    for section in plan["sections"]:
        if section["number"] == area:
            for g in section.get("groups") or []:
                if g["number"] == group:
                    return g["title"]
    return None


def fixture_rows(plan, inline_groups):
    """Rows the fixture rebuilds, keyed like seed_rows(), with a readable label."""
    rows = {}
    for s in plan["strategies"]:
        area, group = s["section"][0], (s["section"][1] if len(s["section"]) > 1 else None)
        label = ""
        if group is not None and s["number"] == 1 and (area, group) in inline_groups:
            label = f"({CN[group - 1]}){group_title(plan, area, group)}："
        for m in s["measures"]:
            cells = [
                squash(label + s["printed_number"] + s["title"]) if m["number"] == 1 else "",
                squash(m["printed_number"] + m["text"]),
                squash(rebuilt_targets(m["targets"])),
                squash(m["agencies_text"]),
            ]
            where = (
                f"area {CN[area - 1]}"
                + (f" group ({CN[group - 1]})" if group else "")
                + f" strategy {s['printed_number']} {s['title'][:12]}…"
                + f" measure {m['printed_number'] or '(unnumbered)'}"
            )
            rows[(area, group, s["number"], m["number"])] = (cells, where)
    return rows


def test_areas_and_groups_match_seed(seed, plan):
    _, group_labels, _, area_titles = seed
    assert {s["number"]: s["title"] for s in plan["sections"]} == area_titles
    printed = {
        (s["number"], g["number"]): f"({CN[g['number'] - 1]}){g['title']}"
        for s in plan["sections"]
        for g in s.get("groups") or []
    }
    assert printed == group_labels


def test_strategies_are_numbered_in_order(plan):
    seen = {}
    for s in plan["strategies"]:
        parent = tuple(s["section"])
        seen[parent] = seen.get(parent, 0) + 1
        assert s["number"] == seen[parent], f"{parent} strategy {s['printed_number']}"
        style = f"{s['number']}." if len(parent) == 2 else f"({CN[s['number'] - 1]})"
        assert s["printed_number"] == style, f"{parent} strategy {s['number']}"
        numbers = [m["number"] for m in s["measures"]]
        assert numbers == list(range(1, len(numbers) + 1)), f"{parent} {s['printed_number']}"
        for m in s["measures"]:
            assert m["printed_number"] in ("", f"{m['number']}.")
            assert not m.get("indicators") and not m.get("values")
            numbered = [t["number"] for t in m["targets"] if t.get("number") is not None]
            assert numbered in ([], list(range(1, len(m["targets"]) + 1)))


def test_every_seed_row_is_rebuilt(seed, plan):
    rows, _, inline_groups, _ = seed
    mine = fixture_rows(plan, inline_groups)
    problems = []
    for key in sorted(set(rows) - set(mine), key=row_order):
        area, group, strategy, measure = key
        problems.append(
            f"missing in fixture: area {CN[area - 1]}"
            + (f" group ({CN[group - 1]})" if group else "")
            + f", strategy no. {strategy}, measure no. {measure}: {rows[key][1][:30]}…"
        )
    for key in sorted(set(mine) - set(rows), key=row_order):
        problems.append(f"not in seed: {mine[key][1]}")
    for key in sorted(set(rows) & set(mine), key=row_order):
        cells, where = mine[key]
        for column, printed, rebuilt in zip(COLUMNS, rows[key], cells):
            if printed != rebuilt:
                problems.append(f"{where}: {column} differs\n  seed:    {printed}\n  fixture: {rebuilt}")
    assert not problems, "\n".join(problems)


def test_agency_names_come_from_agencies_text(plan):
    for s in plan["strategies"]:
        for m in s["measures"]:
            printed = squash(m["agencies_text"])
            for entry in m["agencies"]:
                assert entry["role"] in ("lead", "assisting")
                for name in entry["names"]:
                    assert squash(name) in printed, (
                        f"strategy {s['section']} {s['printed_number']} measure {m['number']}: {name}"
                    )


def test_provisions_match_seed(plan):
    if not SEED.exists():
        pytest.skip(f"seed not found: {SEED.name}")
    text = SEED.read_text(encoding="utf-8")
    block = text[text.index("陸、分工及績效考核"):]
    items = re.findall(r"^- [一二三四五六七八九十]、(.+)$", block, flags=re.M)
    (provision,) = plan["provisions"]
    assert provision["heading"] == "陸、分工及績效考核"
    assert [squash(i) for i in provision["items"]] == [squash(i) for i in items]
