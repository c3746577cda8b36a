"""Who may open the officer's page and an entry (agency 交通部's entry, held by officer_a)."""

LOGIN = "login"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]


def _entry(matrix):
    """A draft entry of agency A (交通部), created once per matrix."""
    from reporting.models import Entry, Obligation, ReportingPeriod
    from reporting.services.periods import periods_ensure

    if "entry" not in matrix:
        periods_ensure(year=112)
        obligation = Obligation.objects.filter(year=112, agency=matrix["personas"].agency_a, indicator__aggregation="sum").first()
        period = ReportingPeriod.objects.get(year=112, frequency=obligation.indicator.frequency, number=1)
        matrix["entry"] = Entry.objects.create(obligation=obligation, period=period, quantity=1, narrative="x", updated_by=matrix["personas"].officer_a)
    return matrix["entry"]


EXPECTED = {
    # The officer's page shows the user's own agency; national roles may pick one.
    "reporting:my_items": (lambda m: {}, {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 200, "reviewer": 200, "aac": 200, "ndc": 200, "admin": 200}),
    # Always the user's own agency's list: nobody can ask for another's.
    "reporting:todo": (lambda m: {}, {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 200, "reviewer": 200, "aac": 200, "ndc": 200, "admin": 200}),
    "reporting:entry": (
        lambda m: {"obligation": _entry(m).obligation_id, "period": _entry(m).period_id},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 404, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    "reporting:entry_detail": (
        lambda m: {"pk": _entry(m).pk},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 404, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    # Actions are POST only; a GET is refused for everyone who may see the entry.
    "reporting:entry_action": (
        lambda m: {"pk": _entry(m).pk, "action": "submit"},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 405, "officer_b": 405, "reviewer": 405, "aac": 405, "ndc": 405, "admin": 405},
    ),
}
