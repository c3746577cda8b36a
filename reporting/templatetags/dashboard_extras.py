"""Showing dashboard figures: numbers with separators, plain numbers for charts, status badges."""

from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from measures.numbers import figure_label
from measures.templatetags.plan_extras import roc_date
from reporting.exporters.dashboard import figure_text

register = template.Library()

STATUS_CLASSES = {
    "achieved": "text-bg-success",
    "on_track": "text-bg-primary",
    "behind": "text-bg-danger",
    "not_reported": "text-bg-secondary",
    "not_due": "text-bg-light border",
    "reported": "text-bg-info",
}
STATUS_COLOURS = {"achieved": "#198754", "on_track": "#0d6efd", "behind": "#dc3545", "not_reported": "#6c757d", "not_due": "#adb5bd", "reported": "#0dcaf0"}
STATUS_ICONS = {"achieved": "✔", "on_track": "➜", "behind": "✖", "not_reported": "－", "not_due": "…", "reported": "✎"}


@register.filter
def number(value, places=2):
    """1234.5000 → 「1,234.5」; None → ""."""
    if value is None or value == "":
        return ""
    return figure_label(Decimal(value), places=int(places))


@register.filter
def raw(value):
    """A plain decimal for data-value attributes (charts, sorting)."""
    if value is None or value == "":
        return ""
    return format(Decimal(value).normalize(), "f")


@register.filter
def figure_display(figure):
    """A figure as the page shows it: the number (ratios as %), a milestone, a grade."""
    if figure is None or not figure.reported:
        return "—"
    if figure.value is not None:
        return figure_label(figure.value, ratio=figure.kind == "ratio", places=2)
    return figure_text(figure) or "—"


@register.filter
def target_display(row):
    """What a target value asks for, in the scope shown: the quantity with its unit, a
    grade, or the due date of a milestone."""
    value = row.value
    if value is None:
        return "—"
    if row.target is not None:
        return figure_label(row.target, value.unit, places=2)
    return value.grade or (roc_date(value.due_on) if value.due_on else "—")


@register.simple_tag
def status_badge(status, label, note=""):
    return format_html(
        '<span class="badge status-badge {}" data-status="{}"{}><span aria-hidden="true">{} </span>{}</span>',
        STATUS_CLASSES.get(str(status), "text-bg-light"), status, format_html(' title="{}"', note) if note else "",
        STATUS_ICONS.get(str(status), ""), label,
    )


@register.filter
def status_colour(status):
    return STATUS_COLOURS.get(str(status), "#6c757d")


@register.filter
def count_of(summary, status):
    return summary.count(status)


@register.simple_tag
def value_rows(rows, carried):
    """The target-value table's rows. Built here rather than in the template because this
    is the national page's hot loop (a row per target value, some 120): a template row
    costs about ten times as much, most of the page's rendering time."""
    return format_html_join("\n", "{}", ((_value_row(row, carried),) for row in rows)) or format_html(
        '<tr><td colspan="8" class="text-center text-body-secondary">{}</td></tr>', _("沒有符合條件的項目。")
    )


def _value_row(row, carried):
    measure = format_html('<a href="{}?{}">{}</a>', reverse("dashboard:measure", args=[row.measure.pk]), carried, row.measure.reference)
    if row.is_key:
        measure = format_html('{} <span class="badge text-bg-warning">{}</span>', measure, _("院列管"))
    indicator_url = reverse("dashboard:indicator", args=[row.indicator.pk]) if row.indicator else ""
    if row.indicator:
        indicator = format_html('<a href="{}?{}">{}</a>', indicator_url, carried, Truncator(row.indicator.text).chars(60))
    else:
        indicator = format_html('<span class="text-body-secondary">{}</span>', _("（無對應指標）"))
    value = row.value
    if value:
        value_text = format_html(
            "{}{}{}", f"{value.label}. " if value.label else "", Truncator(value.display_text).chars(70),
            format_html('<br><span class="text-body-secondary">{}</span>', value.agency.name) if value.agency else "",
        )
    else:
        value_text = format_html('<span class="text-body-secondary">{}</span>', _("（未訂目標值）"))
    figure = row.figure
    shown = format_html('<a href="{}?{}" class="figure-link">{}</a>', indicator_url, carried, figure_display(figure)) if row.indicator else "—"
    if figure is not None and figure.reported:
        agencies = ngettext("%(n)s 個機關", "%(n)s 個機關", figure.agencies) % {"n": figure.agencies}
        shown = format_html('{}<div class="small text-body-secondary">{}</div>', shown, agencies)
    percent = row.assessment.percent
    note = row.assessment.note
    return format_html(
        '<tr data-status="{}"><td class="text-nowrap">{}</td><td>{}</td><td class="small">{}</td>'
        '<td class="text-end value-figure">{}</td><td class="text-end value-figure" data-value="{}">{}</td>'
        '<td class="text-end value-figure">{}</td><td>{}{}</td><td class="small">{}</td></tr>',
        row.status, measure, indicator, value_text, target_display(row), raw(figure.value if figure else None), shown,
        f"{number(percent, 1)}%" if percent is not None else "—",
        status_badge(row.status, row.status_label, note), format_html('<div class="small text-body-secondary">{}</div>', note) if note else "",
        "、".join(row.leads),
    )


# One colour per entry state, used wherever an entry's state is shown (the text says it too).
ENTRY_STATE_CLASSES = {
    "not_started": "text-bg-light border",
    "draft": "text-bg-light border",
    "submitted": "text-bg-info",
    "forwarded": "text-bg-primary",
    "returned": "text-bg-danger",
    "approved": "text-bg-success",
}


@register.filter
def entry_state_class(state) -> str:
    return ENTRY_STATE_CLASSES.get(state or "not_started", "text-bg-secondary")
