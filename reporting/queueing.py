"""How services queue the thin tasks of reporting/tasks.py: by name, from Celery's registry.

Tasks call services, so services never import the tasks module: the dependency runs one
way (tasks → services). The registry returns the task object itself, so eager mode (the
demo, the tests) and retries behave exactly as with a direct call.
"""

from django.db import transaction

from anticorruption.celery import app


def task(name: str):
    """The registered task ``reporting.tasks.<name>`` (reporting.apps imports the module at start-up)."""
    return app.tasks[f"reporting.tasks.{name}"]


def after_commit(name: str, *args) -> None:
    """Queue a notice task once the transaction commits; a mail failure must not fail the saved step."""
    transaction.on_commit(lambda: task(name).delay(*args), robust=True)
