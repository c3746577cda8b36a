from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Entry
from .values import KIND_FIELDS

TEXTAREA = forms.Textarea(attrs={"rows": 4, "class": "form-control"})
INPUT = forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal", "autocomplete": "off"})


class EntryForm(forms.Form):
    """Fields are text so what was typed (full-width digits, separators) comes back
    unchanged on an error; the services parse and validate it."""

    quantity = forms.CharField(label=_("本期數值"), required=False, widget=INPUT)
    numerator = forms.CharField(label=_("分子"), required=False, widget=INPUT)
    denominator = forms.CharField(label=_("分母"), required=False, widget=INPUT)
    milestone = forms.ChoiceField(label=_("辦理進度"), required=False, choices=[("", "—"), *Entry.Milestone.choices], widget=forms.Select(attrs={"class": "form-select"}))
    reached_on = forms.CharField(label=_("完成日期"), required=False, help_text=_("例如 112/05/01 或 2023-05-01"), widget=forms.TextInput(attrs={"class": "form-control"}))
    grade = forms.CharField(label=_("等級"), required=False, max_length=10, widget=forms.TextInput(attrs={"class": "form-control"}))
    text = forms.CharField(label=_("辦理情形"), required=False, widget=TEXTAREA)
    narrative = forms.CharField(label=_("執行情形"), required=False, widget=TEXTAREA)
    shortfall_reason = forms.CharField(label=_("未達成原因及策進作為"), required=False, widget=TEXTAREA, help_text=_("年度最後一期未達目標值時必填"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in ("quantity", "numerator", "denominator", "milestone", "reached_on", "grade", "text"):
            if name not in KIND_FIELDS[kind]:
                del self.fields[name]

    @classmethod
    def initial_from(cls, entry: Entry | None) -> dict:
        if entry is None:
            return {}
        initial = {name: getattr(entry, name) for name in ("milestone", "grade", "text", "narrative", "shortfall_reason")}
        for name in ("quantity", "numerator", "denominator"):
            value = getattr(entry, name)
            initial[name] = "" if value is None else format(value.normalize(), "f")
        initial["reached_on"] = entry.reached_on.isoformat() if entry.reached_on else ""
        initial["version"] = entry.version
        return initial


class ReviewForm(forms.Form):
    comment = forms.CharField(label=_("審查意見"), required=False, widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))
