"""Load a plan data file (fixtures/plan-*.yaml, format in fixtures/README.md).

The whole file is checked and turned into rows first; only then are they
written, in one transaction, touching only rows that differ. Loading the same
file twice therefore changes nothing, and a bad file changes nothing either.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.loaders import AgencyDirectory
from agencies.naming import UnknownAgencyName
from anticorruption.datafiles import DataFileError, FieldReader, LoadStats, read_yaml, require_unique, sync_bulk, sync_rows

from .models import (
    AgencyAssignment,
    Goal,
    Indicator,
    Measure,
    PerformanceTarget,
    PlanVersion,
    Section,
    Strategy,
    TargetValue,
    TargetValueIndicator,
    TargetValueShare,
    TargetYear,
    breakdown_sum_error,
)
from .numbers import FigureError, parse_figure

PLAN_KEYS = {
    "code", "title", "subtitle", "approved_on", "first_year", "last_year", "status", "target_year",
    "basis", "preamble", "goals", "provisions", "sections", "strategies",
}
STRATEGY_KEYS = {"number", "printed_number", "section", "title", "measures"}
MEASURE_KEYS = {"number", "printed_number", "text", "agencies_text", "agencies", "targets", "indicators", "values"}
VALUE_FIGURE_KEYS = {"kind", "figure", "comparator", "grade", "due", "breakdown"}
VALUE_KEYS = {"year", "number", "heading", "agency", "text", "indicators", "note", "parts"} | VALUE_FIGURE_KEYS
PART_KEYS = {"text", "note"} | VALUE_FIGURE_KEYS
PART_DEFAULT_KEYS = {"kind", "comparator"}


def _compact(text: str) -> str:
    return "".join(text.split())


@dataclass
class MeasureRows:
    """Everything one measure contributes, ready to write."""

    strategy_key: tuple
    fields: dict
    targets: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    values: list[dict] = field(default_factory=list)  # each: fields + "shares" + "indicator_positions"
    assignments: list[dict] = field(default_factory=list)  # each: fields + "target_position"


class PlanFile:
    """One plan file, read and validated; ``write()`` puts it in the database.

    ``data`` is the file's content in the fixtures' shape (fixtures/README.md); other formats
    (measures/plan_import.py) are turned into it first, so every rule is checked here once.
    ``verbatim`` (the fixtures) also requires each figure to stand in its printed text.
    """

    def __init__(self, path, data=None, *, verbatim=True):
        self.path = Path(path)
        self.verbatim = verbatim
        self.agencies = AgencyDirectory()
        data = read_yaml(self.path) if data is None else data
        plan = FieldReader(self.path, _("方案"), data, PLAN_KEYS)
        self.plan_fields = {
            "title": plan.text("title"),
            "subtitle": plan.text("subtitle", required=False),
            "approved_on": plan.date("approved_on"),
            "first_year": plan.integer("first_year"),
            "last_year": plan.integer("last_year", required=False),
            "status": plan.choice("status", PlanVersion.Status),
            "target_year": plan.integer("target_year", required=False),
            "basis": plan.text("basis", required=False),
            "preamble": plan.text("preamble", required=False),
            "provisions": self._provisions(plan),
        }
        self.code = str(data.get("code") or "").strip()
        if not self.code:
            plan.fail(_("缺少欄位 code。"))
        if self.plan_fields["last_year"] and self.plan_fields["last_year"] < self.plan_fields["first_year"]:
            plan.fail(_("結束年度不可早於起始年度。"))
        self.goals = self._goals(plan)
        self.sections = self._sections(plan)
        self.strategies, self.measures = self._strategies(plan)

    # -- reading --------------------------------------------------------

    def _reader(self, entry, data, keys):
        return FieldReader(self.path, entry, data, keys)

    def _provisions(self, plan):
        provisions = []
        for index, raw in enumerate(plan.items("provisions"), start=1):
            reader = self._reader(_("其他規定第 %(n)d 段") % {"n": index}, raw, {"heading", "items"})
            items = reader.items("items")
            if not all(isinstance(item, str) for item in items):
                reader.fail(_("規定內容應為文字。"))
            provisions.append({"heading": reader.text("heading"), "items": [item.strip() for item in items]})
        return provisions

    def _goals(self, plan):
        goals = []
        for raw in plan.items("goals"):
            reader = self._reader(_("目標"), raw, {"number", "title", "text"})
            goals.append({"number": reader.integer("number"), "title": reader.text("title"), "text": reader.text("text", required=False)})
        require_unique(plan, [goal["number"] for goal in goals], _("目標"))
        return goals

    def _sections(self, plan):
        sections = []
        for raw in plan.items("sections"):
            reader = self._reader(_("面向"), raw, {"number", "title", "groups"})
            number = reader.integer("number")
            reader.entry = _("面向 %(n)d") % {"n": number}
            groups = []
            for raw_group in reader.items("groups"):
                group = self._reader(reader.entry, raw_group, {"number", "title"})
                groups.append({"number": group.integer("number"), "title": group.text("title")})
            require_unique(reader, [group["number"] for group in groups], _("分項"))
            sections.append({"number": number, "title": reader.text("title"), "groups": groups})
        require_unique(plan, [section["number"] for section in sections], _("面向"))
        return sections

    def _section_path(self, reader, raw_path):
        if raw_path in (None, []):
            if self.sections:
                reader.fail(_("此版本分為面向，具體策略須註明所屬面向（section）。"))
            return ()
        if not isinstance(raw_path, list) or not 1 <= len(raw_path) <= 2:
            reader.fail(_("section 應為 [面向] 或 [面向, 分項]。"))
        area = next((s for s in self.sections if s["number"] == raw_path[0]), None)
        if area is None:
            reader.fail(_("找不到面向 %(n)s。") % {"n": raw_path[0]})
        if len(raw_path) == 2 and not any(g["number"] == raw_path[1] for g in area["groups"]):
            reader.fail(_("面向 %(area)s 下找不到分項 %(group)s。") % {"area": raw_path[0], "group": raw_path[1]})
        return tuple(raw_path)

    def _strategies(self, plan):
        strategies, measures = [], []
        raw_strategies = plan.items("strategies")
        if not raw_strategies:
            plan.fail(_("方案沒有任何具體策略。"))
        for position, raw in enumerate(raw_strategies, start=1):
            reader = self._reader(_("第 %(n)d 個具體策略") % {"n": position}, raw, STRATEGY_KEYS)
            number = reader.integer("number")
            reader.entry = _("具體策略 %(n)d") % {"n": number}
            section_path = self._section_path(reader, raw.get("section"))
            key = (section_path, number)
            if any(strategy["key"] == key for strategy in strategies):
                plan.fail(_("具體策略編號重複：%(numbers)s。") % {"numbers": number})
            strategies.append(
                {
                    "key": key,
                    "entry": reader.entry,
                    "fields": {
                        "number": number,
                        "printed_number": reader.text("printed_number", required=False),
                        "title": reader.text("title"),
                        "position": position,
                    },
                }
            )
            raw_measures = reader.items("measures")
            if not raw_measures:
                reader.fail(_("具體策略沒有任何執行措施。"))
            for raw_measure in raw_measures:
                measures.append(self._measure(reader.entry, key, raw_measure))
            require_unique(reader, [m.fields["number"] for m in measures if m.strategy_key == key], _("執行措施"))
        return strategies, measures

    def _measure(self, strategy_entry, strategy_key, raw):
        reader = self._reader(_("%(strategy)s 的執行措施") % {"strategy": strategy_entry}, raw, MEASURE_KEYS)
        number = reader.integer("number")
        printed = reader.text("printed_number", required=False)
        reader.entry = f"{strategy_entry} › " + _("執行措施 %(n)s") % {"n": printed or number}
        rows = MeasureRows(
            strategy_key=strategy_key,
            fields={
                "number": number,
                "printed_number": printed,
                "text": reader.text("text"),
                "agencies_text": reader.text("agencies_text", required=False),
            },
        )
        for position, raw_target in enumerate(reader.items("targets"), start=1):
            target = self._reader(f"{reader.entry} › " + _("績效目標 %(n)d") % {"n": position}, raw_target, {"number", "text"})
            rows.targets.append({"position": position, "number": target.integer("number", required=False), "text": target.text("text")})
        require_unique(reader, [t["number"] for t in rows.targets], _("績效目標"))
        for position, raw_indicator in enumerate(reader.items("indicators"), start=1):
            indicator = self._reader(
                f"{reader.entry} › " + _("績效衡量指標 %(n)d") % {"n": position}, raw_indicator, {"number", "text", "frequency", "aggregation"}
            )
            rows.indicators.append(
                {
                    "position": position,
                    "number": indicator.integer("number", required=False),
                    "text": indicator.text("text"),
                    "frequency": indicator.choice("frequency", Indicator.Frequency, default=Indicator.Frequency.QUARTERLY),
                    "aggregation": indicator.choice("aggregation", Indicator.Aggregation, default=Indicator.Aggregation.SUM),
                }
            )
        require_unique(reader, [i["number"] for i in rows.indicators], _("績效衡量指標"))
        rows.assignments = self._assignments(reader, raw, rows)
        if any(isinstance(v, dict) and not v.get("year") for v in reader.items("values")) and self.plan_fields["target_year"] is None:
            reader.fail(_("此版本未設定目標值年度（target_year），目標值須註明年度（year）。"))
        positions: dict[int, int] = {}
        for index, raw_value in enumerate(reader.items("values"), start=1):
            for value in self._value_rows(reader, index, raw_value, rows):
                year = value["fields"]["year"]
                if not self.plan_fields["first_year"] <= year <= (self.plan_fields["last_year"] or year):
                    reader.fail(_("目標值第 %(n)d 項的年度民國%(year)d年不在此版本的適用年度內。") % {"n": index, "year": year})
                positions[year] = positions.get(year, 0) + 1
                value["fields"]["position"] = positions[year]
                rows.values.append(value)
        return rows

    def _target_position(self, reader, rows, number):
        for target in rows.targets:
            if target["number"] == number:
                return target["position"]
        reader.fail(_("找不到績效目標 %(n)s。") % {"n": number})

    def _assignments(self, measure_reader, raw, rows):
        assignments, seen = [], {}
        for index, raw_group in enumerate(measure_reader.items("agencies"), start=1):
            reader = self._reader(f"{measure_reader.entry} › " + _("辦理機關第 %(n)d 組") % {"n": index}, raw_group, {"role", "names", "targets"})
            role = reader.choice("role", AgencyAssignment.Role)
            names = reader.items("names")
            if not names or not all(isinstance(name, str) and name.strip() for name in names):
                reader.fail(_("辦理機關名稱應為非空白文字清單。"))
            target_positions = [self._target_position(reader, rows, n) for n in reader.items("targets")] or [None]
            for printed in names:
                for agency in self._resolve(reader, printed):
                    for target_position in target_positions:
                        slot = (target_position, agency.pk)
                        if slot in seen:
                            reader.fail(_("機關「%(agency)s」重複列出（「%(first)s」與「%(second)s」）。") % {"agency": agency.name, "first": seen[slot], "second": printed})
                        seen[slot] = printed
                        assignments.append(
                            {"agency_id": agency.pk, "role": role, "printed_name": printed.strip(), "target_position": target_position, "position": len(assignments) + 1}
                        )
        return assignments

    def _resolve(self, reader, printed):
        try:
            return self.agencies.resolve(printed)
        except UnknownAgencyName:
            reader.fail(_("不認得的機關名稱「%(name)s」（請先在 fixtures/agencies.yaml 加入名稱或別名）。") % {"name": printed})

    def _single_agency(self, reader, printed):
        if not printed:
            return None
        bodies = self._resolve(reader, printed)
        if len(bodies) != 1:
            reader.fail(_("「%(name)s」指向 %(count)d 個機關，此處只能指一個。") % {"name": printed, "count": len(bodies)})
        return bodies[0]

    def _value_rows(self, measure_reader, index, raw, rows):
        reader = self._reader(f"{measure_reader.entry} › " + _("目標值第 %(n)d 項") % {"n": index}, raw, VALUE_KEYS)
        text = reader.text("text")
        agency = self._single_agency(reader, reader.text("agency", required=False))
        indicator_positions = []
        for number in reader.items("indicators"):
            match = next((i["position"] for i in rows.indicators if i["number"] == number), None)
            if match is None:
                reader.fail(_("找不到績效衡量指標 %(n)s。") % {"n": number})
            indicator_positions.append(match)
        common = {
            "year": reader.integer("year", required=False) or self.plan_fields["target_year"],
            "number": reader.integer("number", required=False),
            "heading": reader.text("heading", required=False),
            "agency_id": agency.pk if agency else None,
            "text": text,
        }
        raw_parts = reader.items("parts")
        if raw_parts:
            if any(raw.get(key) for key in VALUE_FIGURE_KEYS - PART_DEFAULT_KEYS):
                reader.fail(_("有 parts 的目標值，數值應寫在各分項中。"))
            defaults = {key: raw[key] for key in PART_DEFAULT_KEYS if raw.get(key)}
            if len(raw_parts) < 2:
                reader.fail(_("parts 至少要有兩個分項。"))
            figures = []
            for part_number, raw_part in enumerate(raw_parts, start=1):
                if isinstance(raw_part, dict):
                    raw_part = {**defaults, **raw_part}  # kind and comparator may be given once for all parts
                part = self._reader(f"{reader.entry} › " + _("分項 %(n)d") % {"n": part_number}, raw_part, PART_KEYS)
                part_text = part.text("text")
                if self.verbatim and _compact(part_text) not in _compact(text):
                    part.fail(_("分項文字「%(part)s」不在目標值原文中。") % {"part": part_text})
                fields = {**common, "part": part_number, "part_text": part_text, "note": part.text("note", required=False)}
                figures.append(self._figure(part, fields, part_text, reader.text("note", required=False)))
            for figure in figures:
                figure["indicator_positions"] = indicator_positions
            return figures
        fields = {**common, "part": None, "part_text": "", "note": reader.text("note", required=False)}
        figure = self._figure(reader, fields, text, "")
        figure["indicator_positions"] = indicator_positions
        return [figure]

    def _figure(self, reader, fields, text, inherited_note):
        kind = reader.choice("kind", TargetValue.Kind)
        figure_text = reader.text("figure", required=False)
        fields.update(
            kind=kind, figure=figure_text, quantity=None, unit="", comparator="", grade=reader.text("grade", required=False), due_on=reader.date("due"),
        )
        if inherited_note and not fields["note"]:
            fields["note"] = inherited_note
        shares = []
        if kind in TargetValue.NUMERIC_KINDS:
            if not figure_text:
                reader.fail(_("%(kind)s類目標值須有 figure（原文中的數值與單位）。") % {"kind": TargetValue.Kind(kind).label})
            parsed = self._parse(reader, figure_text)
            fields.update(quantity=parsed.quantity, unit=parsed.unit, comparator=reader.choice("comparator", TargetValue.Comparator, default="at_least"))
            if fields["kind"] == TargetValue.Kind.RATIO and parsed.unit == "%" and parsed.quantity > 100:
                reader.fail(_("百分比不可超過 100%。"))
            shares = self._shares(reader, parsed)
        else:
            for key in ("figure", "comparator", "breakdown"):
                if raw_value := reader.data.get(key):
                    reader.fail(_("%(kind)s類目標值不可有 %(key)s（「%(value)s」）。") % {"kind": TargetValue.Kind(kind).label, "key": key, "value": raw_value})
        if self.verbatim and figure_text and _compact(figure_text) not in _compact(text):
            reader.fail(_("figure「%(figure)s」不在原文「%(text)s」中。") % {"figure": figure_text, "text": text})
        if kind == TargetValue.Kind.GRADE and not fields["grade"]:
            reader.fail(_("等級類目標值須有 grade。"))
        if kind != TargetValue.Kind.GRADE and fields["grade"]:
            reader.fail(_("只有等級類目標值可有 grade。"))
        if kind != TargetValue.Kind.MILESTONE and fields["due_on"]:
            reader.fail(_("只有里程碑類目標值可有 due（完成期限）。"))
        return {"fields": fields, "shares": shares}

    def _parse(self, reader, figure_text):
        try:
            return parse_figure(figure_text)
        except FigureError:
            reader.fail(_("無法解讀數值「%(figure)s」。") % {"figure": figure_text})

    def _shares(self, reader, parsed):
        shares = []
        for position, raw_share in enumerate(reader.items("breakdown"), start=1):
            share = self._reader(f"{reader.entry} › " + _("機關分配 %(n)d") % {"n": position}, raw_share, {"agency", "figure"})
            agency = self._single_agency(share, share.text("agency"))
            share_figure = self._parse(share, share.text("figure"))
            if share_figure.unit != parsed.unit:
                share.fail(_("分配單位「%(unit)s」與目標值單位「%(total)s」不同。") % {"unit": share_figure.unit, "total": parsed.unit})
            if any(s["agency_id"] == agency.pk for s in shares):
                share.fail(_("機關「%(agency)s」重複分配。") % {"agency": agency.name})
            shares.append({"agency_id": agency.pk, "position": position, "figure": share.text("figure"), "quantity": share_figure.quantity})
        if error := breakdown_sum_error(parsed.quantity, [s["quantity"] for s in shares]):
            reader.fail(str(error))
        return shares

    # -- writing --------------------------------------------------------

    def write(self) -> tuple[PlanVersion, LoadStats]:
        stats = LoadStats()
        try:
            with transaction.atomic():
                plan = self._write(stats)
        except ProtectedError as error:
            # An indicator (or a body) that figures already hang on cannot be removed by a file.
            names = sorted({str(getattr(obj, "indicator", obj)) for obj in error.protected_objects})[:5]
            raise DataFileError(
                self.path, "", _("此檔案會移除已有填報資料的項目，不能載入：%(names)s。") % {"names": "；".join(names)}
            ) from None
        except IntegrityError as error:
            raise DataFileError(self.path, "", _("資料庫拒絕寫入：%(error)s") % {"error": error}) from None
        return plan, stats

    def _write(self, stats):
        if self.plan_fields["status"] == PlanVersion.Status.IN_FORCE:
            # Loading a new version in force supersedes the previous one, whose last year closes
            # the year before the new one starts.
            first_year = self.plan_fields["first_year"]
            for other in PlanVersion.objects.filter(status=PlanVersion.Status.IN_FORCE).exclude(code=self.code):
                if other.first_year >= first_year:
                    raise DataFileError(self.path, "", _("現行版本「%(other)s」自民國%(year)d年起適用，新版本須晚於該年度才能取代。") % {"other": other, "year": other.first_year})
                if TargetYear.objects.filter(plan=other, year__gte=first_year).exists():
                    raise DataFileError(
                        self.path, "", _("「%(other)s」已有民國%(year)d年以後的年度目標值，不能由自民國%(year)d年起適用的新版本取代。") % {"other": other, "year": first_year}
                    )
                other.status = PlanVersion.Status.SUPERSEDED
                if other.last_year is None or other.last_year >= first_year:
                    other.last_year = first_year - 1
                other.save(update_fields=["status", "last_year"])
                stats.updated[str(PlanVersion._meta.verbose_name)] += 1
        plan = sync_rows(PlanVersion, {}, ("code",), [{"code": self.code, **self.plan_fields}], stats, delete_missing=False)[(self.code,)]
        # Each kind of row is read for the whole plan at once and written in bulk (sync_bulk),
        # parents before children: a child whose parent was just deleted is gone with it.
        sync_bulk(Goal, Goal.objects.filter(plan=plan), ("plan_id", "number"), [{"plan_id": plan.pk, **goal} for goal in self.goals], stats)
        section_ids = self._write_sections(plan, stats)
        strategy_rows = [{"plan_id": plan.pk, **s["fields"], "section_id": section_ids[s["key"][0]]} for s in self.strategies]
        strategy_ids = sync_bulk(Strategy, Strategy.objects.filter(plan=plan), ("section_id", "number"), strategy_rows, stats)
        strategy_of = {m.strategy_key: strategy_ids[(section_ids[m.strategy_key[0]], m.strategy_key[1])] for m in self.measures}
        measure_rows = [{"strategy_id": strategy_of[m.strategy_key], **m.fields} for m in self.measures]
        stored = sync_bulk(Measure, Measure.objects.filter(strategy__plan=plan), ("strategy_id", "number"), measure_rows, stats)
        measure_ids = {(m.strategy_key, m.fields["number"]): stored[(strategy_of[m.strategy_key], m.fields["number"])] for m in self.measures}
        years = self.value_years()
        published_before = self._check_years(plan, years)
        value_stats = {year: LoadStats() for year in years}
        self._write_measure_rows(plan, measure_ids, stats, years, value_stats)
        for year in years:
            if year in published_before and value_stats[year].changed:
                raise DataFileError(
                    self.path, "",
                    _("民國%(year)d年的目標值已核定公布，不可由檔案直接修改；已核定的目標值須於「年度目標值」逐項修正並填寫理由。") % {"year": year},
                )
            for counter in ("created", "updated", "deleted"):
                getattr(stats, counter).update(getattr(value_stats[year], counter))
            if year not in published_before:
                # Values that come in a plan file are published by the document itself.
                TargetYear.objects.get_or_create(
                    year=year, defaults={"plan": plan, "state": TargetYear.State.PUBLISHED, "source": TargetYear.Source.PLAN_FILE, "published_at": timezone.now()},
                )
        return plan

    def value_years(self) -> list[int]:
        """The years whose values this file carries; the values of other years are left alone."""
        return sorted({value["fields"]["year"] for rows in self.measures for value in rows.values})

    def _check_years(self, plan, years) -> set[int]:
        """Refuse a file whose years belong to another version or are being set in the portal;
        return the years already published (their values may not change)."""
        published = set()
        for target_year in TargetYear.objects.filter(year__in=years).select_related("plan"):
            if target_year.plan_id != plan.pk:
                raise DataFileError(self.path, "", _("民國%(year)d年的目標值屬於「%(plan)s」，不能由此版本的檔案載入。") % {"year": target_year.year, "plan": target_year.plan})
            if not target_year.is_published:
                raise DataFileError(self.path, "", _("民國%(year)d年的目標值正在網站上研訂，請於「年度目標值」完成核定，不能由檔案載入。") % {"year": target_year.year})
            published.add(target_year.year)
        return published

    def _write_sections(self, plan, stats):
        ids = {(): None}
        areas = sync_bulk(
            Section, Section.objects.filter(plan=plan, parent=None), ("number",),
            [{"plan_id": plan.pk, "parent_id": None, "number": s["number"], "title": s["title"], "kind": Section.Kind.AREA} for s in self.sections], stats,
        )
        group_rows = []
        for section in self.sections:
            area = ids[(section["number"],)] = areas[(section["number"],)]
            group_rows += [{"plan_id": plan.pk, "parent_id": area, "number": g["number"], "title": g["title"], "kind": Section.Kind.GROUP} for g in section["groups"]]
        groups = sync_bulk(Section, Section.objects.filter(plan=plan, parent__isnull=False), ("parent_id", "number"), group_rows, stats)
        for section in self.sections:
            for group in section["groups"]:
                ids[(section["number"], group["number"])] = groups[(areas[(section["number"],)], group["number"])]
        return ids

    def _write_measure_rows(self, plan, measure_ids, stats, years, value_stats):
        """What hangs off the measures: targets, indicators, agencies, and the values of this
        file's years with their shares and indicators (the values of other years are left
        as they are). Each kind of row is one read and a bulk write for the whole plan."""
        in_plan = {"measure__strategy__plan": plan}
        target_rows, indicator_rows, value_rows = [], [], []
        for rows in self.measures:
            measure_id = measure_ids[(rows.strategy_key, rows.fields["number"])]
            target_rows += [{"measure_id": measure_id, **target} for target in rows.targets]
            indicator_rows += [{"measure_id": measure_id, **indicator} for indicator in rows.indicators]
            value_rows += [(measure_id, value) for value in rows.values]
        targets = sync_bulk(PerformanceTarget, PerformanceTarget.objects.filter(**in_plan), ("measure_id", "position"), target_rows, stats)
        indicators = sync_bulk(Indicator, Indicator.objects.filter(**in_plan), ("measure_id", "position"), indicator_rows, stats)
        assignment_rows = []
        for rows in self.measures:
            measure_id = measure_ids[(rows.strategy_key, rows.fields["number"])]
            assignment_rows += [
                {"measure_id": measure_id, **{k: v for k, v in a.items() if k != "target_position"},
                 "target_id": targets[(measure_id, a["target_position"])] if a["target_position"] is not None else None}
                for a in rows.assignments
            ]
        sync_bulk(AgencyAssignment, AgencyAssignment.objects.filter(**in_plan), ("measure_id", "target_id", "agency_id"), assignment_rows, stats)
        # Scoped to this file's years: the values of other years are left as they are.
        values = sync_bulk(
            TargetValue, TargetValue.objects.filter(**in_plan, year__in=years), ("measure_id", "year", "position"),
            [{"measure_id": measure_id, **value["fields"]} for measure_id, value in value_rows], lambda key: value_stats[key[1]],
        )
        value_years, share_rows, link_rows = {}, [], []
        for measure_id, value in value_rows:
            value_id = values[(measure_id, value["fields"]["year"], value["fields"]["position"])]
            value_years[value_id] = value["fields"]["year"]
            share_rows += [{"value_id": value_id, **share} for share in value["shares"]]
            link_rows += [{"value_id": value_id, "indicator_id": indicators[(measure_id, p)]} for p in value["indicator_positions"]]
        of_values = {"value__measure__strategy__plan": plan, "value__year__in": years}
        sync_bulk(TargetValueShare, TargetValueShare.objects.filter(**of_values), ("value_id", "agency_id"), share_rows, lambda key: value_stats[value_years[key[0]]])
        sync_bulk(
            TargetValueIndicator, TargetValueIndicator.objects.filter(**of_values), ("value_id", "indicator_id"), link_rows,
            lambda key: value_stats[value_years[key[0]]],
        )

def load_plan(path) -> tuple[PlanVersion, LoadStats]:
    return PlanFile(path).write()
