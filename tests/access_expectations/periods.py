"""Only AAC reviewers and administrators manage reporting periods."""

LOGIN = "login"


def _period(matrix):
    from reporting.models import ReportingPeriod
    from reporting.services.periods import periods_ensure

    periods_ensure(year=112, frequencies=["quarterly"])
    return ReportingPeriod.objects.filter(year=112).first()


EXPECTED = {
    "reporting:periods": (lambda m: {}, {"anonymous": LOGIN, "no_role": 403, "officer_a": 403, "officer_b": 403, "reviewer": 403, "aac": 200, "ndc": 403, "admin": 200}),
    # POST only.
    "reporting:period_update": (lambda m: {"pk": _period(m).pk}, {"anonymous": LOGIN, "no_role": 403, **{p: 405 for p in ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]}}),
    "reporting:period_reopen": (lambda m: {"pk": _period(m).pk}, {"anonymous": LOGIN, "no_role": 403, **{p: 405 for p in ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]}}),
}
