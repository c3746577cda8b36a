from django.contrib import admin

from anticorruption.admin import ReadOnlyAdmin, ReadOnlyInline

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
    TargetValueRevision,
    TargetValueShare,
    TargetYear,
    IndicatorLineage,
    MeasureLineage,
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


class TargetValueShareInline(ReadOnlyInline):
    model = TargetValueShare


class TargetValueIndicatorInline(ReadOnlyInline):
    model = TargetValueIndicator


class TargetValueRevisionInline(ReadOnlyInline):
    model = TargetValueRevision
    fields = ["revised_at", "revised_by", "reason", "changes"]
    readonly_fields = fields


@admin.register(TargetValue)
class TargetValueAdmin(ReadOnlyAdmin):
    """A published value changes only by a revision with a reason (年度目標值 › 修正), never in place."""

    list_display = ["measure", "year", "label", "kind", "quantity", "unit", "comparator", "agency", "due_on"]
    list_filter = ["measure__strategy__plan", "year", "kind", "comparator"]
    search_fields = ["text", "part_text", "note", "agency__name"]
    list_select_related = ["measure__strategy", "agency"]
    inlines = [TargetValueShareInline, TargetValueIndicatorInline, TargetValueRevisionInline]


@admin.register(TargetYear)
class TargetYearAdmin(ReadOnlyAdmin):
    list_display = ["year", "plan", "state", "source", "due_on", "opened_at", "published_at"]
    list_filter = ["plan", "state", "source"]


@admin.register(MeasureLineage)
class MeasureLineageAdmin(ReadOnlyAdmin):
    list_display = ["measure", "predecessor", "basis", "confirmed_by", "confirmed_at"]
    list_select_related = ["measure__strategy__plan", "predecessor__strategy__plan", "confirmed_by"]


@admin.register(IndicatorLineage)
class IndicatorLineageAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "predecessor", "basis", "confirmed_by", "confirmed_at"]
    list_select_related = ["indicator__measure", "predecessor__measure", "confirmed_by"]


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
