"""Showing dashboard figures: numbers with separators, plain numbers for charts, status badges."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

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
    value = Decimal(value).quantize(Decimal(1).scaleb(-int(places))).normalize()
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
        shown = number(figure.value, 1 if figure.kind == "ratio" else 2)
        return f"{shown}%" if figure.kind == "ratio" else shown
    return figure_text(figure) or "—"


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
