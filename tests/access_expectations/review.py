"""Who may open the review queues and the notices page."""

LOGIN = "login"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]

EXPECTED = {
    # AAC reviewers work the queue; administrators may look at it (without approving).
    "reporting:review_queue": (
        lambda m: {},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 403, "officer_b": 403, "reviewer": 403, "aac": 200, "ndc": 403, "admin": 200},
    ),
    # Agency reviewers only (the persona reviews 法務部 and oversees the bodies under it).
    "reporting:agency_review_queue": (
        lambda m: {},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 403, "officer_b": 403, "reviewer": 200, "aac": 403, "ndc": 403, "admin": 403},
    ),
    # Each user's own notices.
    "reporting:notices": (lambda m: {}, {"anonymous": LOGIN, "no_role": 403, **{persona: 200 for persona in ROLES}}),
    # Marking read and opening are POST only.
    "reporting:notices_read": (lambda m: {}, {"anonymous": LOGIN, "no_role": 403, **{persona: 405 for persona in ROLES}}),
    "reporting:notice_open": (lambda m: {"pk": 1}, {"anonymous": LOGIN, "no_role": 403, **{persona: 405 for persona in ROLES}}),
}
