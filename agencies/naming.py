"""How a name printed in a plan becomes agency records.

Plans print one body in several spellings (法務部(廉政署), 法務部（廉政署）,
法務部 (廉政署), 法務部廉政署) and sometimes several bodies in one bracket
(法務部(檢察司、調查局)). The rules, in order:

1. the whole string is a known name or alias → that body;
2. ``X(含A、B)`` → X and each of A, B;
3. ``X(A、B)`` → each of A, B, looked up as ``XA`` first, then ``A``;
4. anything else is an error that names the string.
"""

import re
import unicodedata
from collections.abc import Callable

_WHITESPACE = re.compile(r"\s+")
_BRACKETED = re.compile(r"^(?P<outer>[^()]+)\((?P<inner>[^()]+)\)$")


def normalize_agency_name(name: str) -> str:
    """The comparison key: NFKC folds full-width brackets, white space is dropped."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", name or ""))


class UnknownAgencyName(LookupError):
    def __init__(self, printed: str):
        self.printed = printed
        super().__init__(printed)


def resolve_agency_name(printed: str, lookup: Callable[[str], object | None]) -> list:
    """Resolve a printed name to the bodies it names.

    ``lookup`` maps a normalized key to an agency or None, so this works on
    database rows and on plain dictionaries alike.
    """
    key = normalize_agency_name(printed)
    if not key:
        raise UnknownAgencyName(printed)
    if (found := lookup(key)) is not None:
        return [found]
    match = _BRACKETED.match(key)
    if not match:
        raise UnknownAgencyName(printed)
    outer, inner = match["outer"], match["inner"]
    bodies = []
    if inner.startswith("含"):
        if (found := lookup(outer)) is None:
            raise UnknownAgencyName(printed)
        bodies.append(found)
        inner = inner[1:]
    for part in filter(None, inner.split("、")):
        found = lookup(outer + part)
        if found is None:
            found = lookup(part)
        if found is None:
            raise UnknownAgencyName(printed)
        if found not in bodies:
            bodies.append(found)
    return bodies
