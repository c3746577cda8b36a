"""Template filters for ROC (民國) years and plan figures."""

import re

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from measures.numbers import chinese_numeral, figure_label, format_quantity
from measures.years import roc_date_label, roc_label

register = template.Library()


@register.filter
def roc_year(year):
    """112 → 「民國112年（2023）」."""
    return roc_label(year)


@register.filter
def quantity(value):
    return format_quantity(value)


@register.filter
def figure(value, unit=""):
    """A number with its unit as people write it (measures.numbers.figure_label); a unit of
    "%" shows a ratio's percentage. Text (a milestone, a grade) passes through."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return figure_label(value, "" if unit == "%" else unit, ratio=unit == "%")


@register.filter
def roc_date(value):
    """2023-11-30 → 「民國112年11月30日」."""
    return roc_date_label(value)


@register.filter
def roc_datetime(value):
    """A moment in Taiwan time: 「民國112年11月30日 14:05」."""
    if not value:
        return ""
    local = timezone.localtime(value, timezone.get_default_timezone())  # Asia/Taipei, also in workers
    return f"{roc_date(local.date())} {local:%H:%M}"


@register.filter
def highlight(text, terms):
    """Wrap each search term in <mark>, escaping everything else."""
    text = text or ""
    terms = [term for term in (terms or []) if term]
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    pieces.append(escape(text[last:]))
    return mark_safe("".join(pieces))


@register.inclusion_tag("includes/target_value.html")
def target_value(value, show_text=True):
    return {"value": value, "show_text": show_text}


@register.filter
def assignment_groups(measure):
    from measures.selectors import assignment_groups as group

    return group(measure.assignments.all())


@register.filter
def value_items(measure):
    from measures.exporters import value_items as items

    return items(measure)


@register.filter
def cn(number):
    """1 → 一."""
    return chinese_numeral(int(number))


@register.simple_tag
def value_change(name, pair):
    """One line of a value's history: 「數值：300 → 340」 (shares summarised, labels translated)."""
    from measures.target_values import FIELD_LABELS

    def shown(value):
        if value in (None, "", []):
            return _("（空白）")
        if isinstance(value, list):
            return _("%(count)d 個機關分配") % {"count": len(value)}
        return str(value)

    before, after = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else ("", pair)
    return f"{FIELD_LABELS.get(name, name)}：{shown(before)} → {shown(after)}"
