"""Every text the fixtures put in front of people is in the interface's language (zh-Hant)."""

import re

import pytest
import yaml

from .conftest import ROOT

# Three Latin words in a row is an English phrase; FATF/APG, A級, 2023-05-25 are not.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}")
# The plan's own text is copied from the seeds (and checked against them character by
# character elsewhere); what the project writes itself, and shows beside it, is the notes.
WRITTEN_HERE = {"note"}


def _strings(node, key=""):
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from _strings(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from _strings(child, key)
    elif isinstance(node, str) and key in WRITTEN_HERE:
        yield key, node


@pytest.mark.parametrize("name", sorted(path.name for path in (ROOT / "fixtures").glob("*.yaml")))
def test_no_english_sentences_in_fixture_notes(name):
    data = yaml.safe_load((ROOT / "fixtures" / name).read_text(encoding="utf-8"))
    english = [(key, text) for key, text in _strings(data) if ENGLISH.search(text)]
    assert not english, english[:5]


def test_the_rule_catches_an_english_note():
    assert ENGLISH.search("The text gives 75% for the rate")
    assert not ENGLISH.search("與績效衡量指標 3（派員參加 FATF/APG 評鑑員訓練）相關")
