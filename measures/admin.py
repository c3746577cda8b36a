from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from .models import (
    AgencyAssignment,
    KeyItem,
    Goal,
    Indicator,
    Measure,
    PerformanceTarget,
    PlanVersion,
    Section,
    Strategy,
    TargetValue,
    TargetValueIndicator,
    TargetValueShare,
    breakdown_sum_error,
)


class GoalInline(admin.TabularInline):
    model = Goal
    extra = 0


@admin.register(PlanVersion)
class PlanVersionAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "status", "first_year", "last_year", "target_year", "approved_on"]
    list_filter = ["status"]
    search_fields = ["code", "title", "subtitle"]
    inlines = [GoalInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "number", "parent", "plan"]
    list_filter = ["plan", "kind"]
    search_fields = ["title"]


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ["label", "title", "plan", "section"]
    list_filter = ["plan"]
    search_fields = ["title"]
    list_select_related = ["plan", "section"]


class PerformanceTargetInline(admin.TabularInline):
    model = PerformanceTarget
    extra = 0


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0


class AgencyAssignmentInline(admin.TabularInline):
    model = AgencyAssignment
    extra = 0
    autocomplete_fields = ["agency"]


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["reference", "text", "strategy"]
    list_filter = ["strategy__plan", "strategy"]
    search_fields = ["text", "agencies_text", "targets__text", "indicators__text"]
    list_select_related = ["strategy"]
    inlines = [PerformanceTargetInline, IndicatorInline, AgencyAssignmentInline]


@admin.register(PerformanceTarget)
class PerformanceTargetAdmin(admin.ModelAdmin):
    list_display = ["measure", "number", "text"]
    list_filter = ["measure__strategy__plan"]
    search_fields = ["text"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["measure", "number", "text", "frequency", "aggregation"]
    list_filter = ["measure__strategy__plan", "frequency", "aggregation"]
    search_fields = ["text"]
    search_help_text = "依指標文字搜尋"


class TargetValueShareFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        quantities = [
            form.cleaned_data["quantity"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("quantity") is not None
        ]
        if self.instance.quantity is not None and (error := breakdown_sum_error(self.instance.quantity, quantities)):
            raise ValidationError(error)


class TargetValueShareInline(admin.TabularInline):
    model = TargetValueShare
    formset = TargetValueShareFormSet
    extra = 0
    autocomplete_fields = ["agency"]


class TargetValueIndicatorInline(admin.TabularInline):
    model = TargetValueIndicator
    extra = 0


@admin.register(TargetValue)
class TargetValueAdmin(admin.ModelAdmin):
    list_display = ["measure", "year", "label", "kind", "quantity", "unit", "comparator", "agency", "due_on"]
    list_filter = ["measure__strategy__plan", "year", "kind", "comparator"]
    search_fields = ["text", "part_text", "note", "agency__name"]
    list_select_related = ["measure__strategy", "agency"]
    autocomplete_fields = ["agency"]
    inlines = [TargetValueShareInline, TargetValueIndicatorInline]


@admin.register(AgencyAssignment)
class AgencyAssignmentAdmin(admin.ModelAdmin):
    list_display = ["measure", "agency", "role", "target", "printed_name"]
    list_filter = ["measure__strategy__plan", "role"]
    search_fields = ["agency__name", "printed_name"]
    list_select_related = ["measure__strategy", "agency", "target"]
    autocomplete_fields = ["agency"]


@admin.register(KeyItem)
class KeyItemAdmin(admin.ModelAdmin):
    list_display = ["year", "measure", "marked_by", "marked_at"]
    list_filter = ["year"]
    search_fields = ["measure__text"]
    list_select_related = ["measure__strategy", "marked_by"]
    autocomplete_fields = ["measure"]
    readonly_fields = ["marked_by"]

    def save_model(self, request, obj, form, change):
        obj.marked_by = request.user
        super().save_model(request, obj, form, change)
