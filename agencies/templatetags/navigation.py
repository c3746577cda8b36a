"""The main menu's links, with the page the user is on marked for sight and for screen readers."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, url: str, label, *, section: bool = False, badge=None):
    """``section``: the link stands for every page below its address (the dashboard's
    drill-down pages are all 儀表板)."""
    path = context["request"].path if "request" in context else ""
    current = path == url or (section and path.startswith(url))
    badge_html = format_html(' <span class="badge text-bg-warning">{}</span>', badge) if badge else ""
    if current:
        return format_html('<li class="nav-item"><a class="nav-link active" aria-current="page" href="{}">{}{}</a></li>', url, label, badge_html)
    return format_html('<li class="nav-item"><a class="nav-link" href="{}">{}{}</a></li>', url, label, badge_html)
