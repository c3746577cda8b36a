"""Who may open the completion dashboards. Content scoping (an agency user's figures
cover only their own agencies) is tested in tests/test_dashboard_pages.py."""

LOGIN = "login"
REDIRECT = "redirect"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]
EVERYONE = {"anonymous": LOGIN, "no_role": 403, **{persona: 200 for persona in ROLES}}

EXPECTED = {
    # National roles see the nation; agency users are sent to their own agency's dashboard.
    "dashboard:home": (
        lambda m: {},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": REDIRECT, "officer_b": REDIRECT, "reviewer": REDIRECT, "aac": 200, "ndc": 200, "admin": 200},
    ),
    # Plan levels are open to every role; their figures are scoped to the user's agencies.
    "dashboard:strategy": (lambda m: {"pk": m["strategy"].pk}, EVERYONE),
    "dashboard:measure": (lambda m: {"pk": m["measure"].pk}, EVERYONE),
    "dashboard:indicator": (lambda m: {"pk": m["measure"].indicators.first().pk}, EVERYONE),
    # Agency B's dashboard: hidden from agency A's officer and from a reviewer of another branch.
    "dashboard:agency": (
        lambda m: {"pk": m["personas"].agency_b.pk},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 404, "officer_b": 200, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    "dashboard:completeness": (lambda m: {}, EVERYONE),
    # POST only; who may send reminders is tested in tests/test_dashboard_pages.py.
    "dashboard:remind": (lambda m: {}, {"anonymous": LOGIN, "no_role": 403, **{persona: 405 for persona in ROLES}}),
}
