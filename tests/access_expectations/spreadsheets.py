"""Who may open the spreadsheet pages: agency A's (交通部) sheet is downloaded by
everyone who may see agency A; only an agency's own officers upload."""

LOGIN = "login"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]


def _sheet_of_agency_a(matrix):
    from reporting.services.periods import periods_ensure

    periods_ensure(year=112)  # idempotent: the download needs the year's periods
    return {"agency": matrix["personas"].agency_a.pk, "year": 112, "quarter": 1, "fmt": "xlsx"}


EXPECTED = {
    # The reviewer oversees the bodies under 法務部, not 交通部.
    "reporting:sheet_download": (
        _sheet_of_agency_a,
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 404, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    # Each officer uploads for their own agency; other roles never write entries.
    "reporting:sheet_upload": (
        lambda m: {},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 200, "officer_b": 200, "reviewer": 403, "aac": 403, "ndc": 403, "admin": 403},
    ),
    # A token that is not in the user's session is not found, whoever asks.
    "reporting:sheet_preview": (
        lambda m: {"token": "0" * 32},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 404, "officer_b": 404, "reviewer": 403, "aac": 403, "ndc": 403, "admin": 403},
    ),
}
