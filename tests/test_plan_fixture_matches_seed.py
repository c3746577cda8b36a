"""fixtures/plan-112.yaml must reproduce the seed's table cell by cell.

Every measure of the seed whose strategy appears in the data file gets its own
test, so a failure names the measure (e.g. ``test_measure_matches_seed[1(三)]``).
"""

from pathlib import Path

import pytest
import yaml

try:  # tests/ may or may not become a package
    from tests.seedcheck import check_plan_112, check_plan_112_by_measure, parse_seed_table
except ImportError:  # pragma: no cover - depends on how pytest sets sys.path
    from seedcheck import check_plan_112, check_plan_112_by_measure, parse_seed_table

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_010bdadd37fe907f.txt"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "plan-112.yaml"


def _load():
    seed_text = SEED.read_text(encoding="utf-8")
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    return data, seed_text


def _labels():
    """Seed measures of the strategies present in the data file, plus "plan"."""
    if not (SEED.exists() and FIXTURE.exists()):
        return ["plan"]
    data, seed_text = _load()
    present = {s.get("number") for s in (data or {}).get("strategies") or [] if isinstance(s, dict)}
    return [row.label for row in parse_seed_table(seed_text) if row.strategy in present] + ["plan"]


@pytest.fixture(scope="module")
def errors_by_measure():
    assert SEED.exists(), f"seed not found: {SEED}"
    data, seed_text = _load()
    return check_plan_112_by_measure(data, seed_text)


@pytest.mark.parametrize("label", _labels())
def test_measure_matches_seed(errors_by_measure, label):
    errors = errors_by_measure.get(label, [])
    assert not errors, "\n".join(errors)


def test_whole_plan_matches_seed():
    data, seed_text = _load()
    errors = check_plan_112(data, seed_text)
    assert errors == [], "\n".join(errors)
