from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from measures.models import TargetValue
from measures.target_values import TargetValueInputError, parse_due_date
from measures.years import parse_roc_year

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

    def __init__(self, *args, kind: str, unit: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if unit and "quantity" in self.fields:
            # The unit the target is set in, beside the number people type.
            self.fields["quantity"].label = _("本期數值（%(unit)s）") % {"unit": unit}
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


# ------------------------------------------------------------------ yearly target values

SELECT = forms.Select(attrs={"class": "form-select"})


class TargetValueForm(forms.Form):
    """One target value as typed: text fields, so what was typed comes back on an error;
    measures.target_values parses and checks it. A share field per assisting agency
    (``share_<agency id>``) is added for values split between agencies."""

    text = forms.CharField(label=_("目標值"), widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}), required=False)
    kind = forms.ChoiceField(label=_("類型"), choices=TargetValue.Kind.choices, widget=SELECT)
    quantity = forms.CharField(label=_("數值"), required=False, widget=INPUT, help_text=_("可寫 320、1,200 或 1萬5,000"))
    unit = forms.CharField(label=_("單位"), required=False, max_length=20, widget=forms.TextInput(attrs={"class": "form-control"}), help_text=_("例如 案、場、%、元"))
    comparator = forms.ChoiceField(label=_("比較方式"), required=False, choices=[("", "—"), *TargetValue.Comparator.choices], widget=SELECT)
    grade = forms.CharField(label=_("等級"), required=False, max_length=10, widget=forms.TextInput(attrs={"class": "form-control"}))
    due_on = forms.CharField(label=_("完成期限"), required=False, help_text=_("里程碑必填，例如 113/11/30 或 2024-11-30"), widget=forms.TextInput(attrs={"class": "form-control"}))
    note = forms.CharField(label=_("說明"), required=False, widget=TEXTAREA, help_text=_("訂定或調整本目標值的理由"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, share_agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.share_agencies = list(share_agencies)
        for agency_id, name in self.share_agencies:
            self.fields[f"share_{agency_id}"] = forms.CharField(
                label=_("%(agency)s分配數") % {"agency": name}, required=False, widget=INPUT,
            )

    def value_data(self) -> dict:
        data = {name: self.cleaned_data.get(name, "") for name in ("text", "kind", "quantity", "unit", "comparator", "grade", "due_on", "note")}
        data["shares"] = [{"agency_id": agency_id, "quantity": self.cleaned_data.get(f"share_{agency_id}")} for agency_id, _name in self.share_agencies]
        return data

    @staticmethod
    def initial_from(source, *, shares) -> dict:
        """Initial fields from a proposal or a published value; ``shares`` [{agency_id, quantity}]."""
        initial = {name: getattr(source, name) or "" for name in ("kind", "unit", "comparator", "grade", "note")}
        initial["text"] = source.part_text if source.part else source.text  # a part of a split item edits its own text
        initial["quantity"] = format(source.quantity.normalize(), "f") if source.quantity is not None else ""
        initial["due_on"] = source.due_on.isoformat() if source.due_on else ""
        initial["version"] = getattr(source, "version", None)
        for share in shares:
            quantity = share["quantity"]
            initial[f"share_{share['agency_id']}"] = format(Decimal(str(quantity)).normalize(), "f")
        return initial


class TargetRevisionForm(TargetValueForm):
    reason = forms.CharField(label=_("修正理由"), widget=TEXTAREA, required=False, help_text=_("必填：為何修正已核定的目標值"))


class OpenTargetYearForm(forms.Form):
    year = forms.CharField(label=_("年度"), help_text=_("例如 113 或 民國113年"), widget=forms.TextInput(attrs={"class": "form-control"}))
    due_on = forms.CharField(label=_("提報期限"), required=False, help_text=_("例如 113/01/31；空白表示不設期限"), widget=forms.TextInput(attrs={"class": "form-control"}))
    note = forms.CharField(label=_("說明"), required=False, widget=TEXTAREA)

    def clean_year(self):
        try:
            return parse_roc_year(self.cleaned_data["year"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_due_on(self):
        try:
            return parse_due_date(self.cleaned_data.get("due_on"))
        except TargetValueInputError as error:
            raise forms.ValidationError(error.errors["due_on"]) from None


class ReporterRuleForm(forms.Form):
    scope = forms.ChoiceField(label=_("填報範圍"), widget=forms.RadioSelect)
    agencies = forms.ModelMultipleChoiceField(
        label=_("指定機關"), required=False, queryset=Agency.objects.none(),
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 10}),
        help_text=_("範圍為「指定機關」時選擇（可按住 Ctrl 複選）"),
    )
    group = forms.ModelChoiceField(
        label=_("機關群組（上級機關）"), required=False, queryset=Agency.objects.none(), widget=SELECT,
        help_text=_("範圍為「機關群組」時選擇：該機關及其所屬機關"),
    )
    reason = forms.CharField(label=_("理由"), widget=TEXTAREA, required=False)

    def __init__(self, *args, **kwargs):
        from .models import ReporterRule

        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = ReporterRule.Scope.choices
        singles = Agency.objects.filter(collective="", is_active=True).order_by("name")
        self.fields["agencies"].queryset = singles
        self.fields["group"].queryset = Agency.objects.filter(Q(collective=Agency.Collective.GROUP) | Q(children__isnull=False)).distinct().order_by("name")
