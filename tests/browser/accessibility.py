"""Checks the browser tests run on every page they visit: axe-core's WCAG 2.1 A/AA rules
(no serious or critical violation), and at phone width nothing wider than the screen."""

from pathlib import Path

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}


def axe_violations(page) -> list[dict]:
    """Serious and critical violations on the page as it is now, each with the nodes hit."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [node["target"] for node in v["nodes"]][:5], "count": len(v["nodes"])}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def overflow_width(page) -> int:
    """How far the page is wider than the viewport (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def assert_accessible(page, where: str):
    violations = axe_violations(page)
    assert not violations, f"{where}: " + "; ".join(f"{v['id']} ({v['impact']}, {v['count']}×): {v['help']} {v['nodes']}" for v in violations)
