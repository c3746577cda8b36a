from django import forms
from django.contrib import admin

from agencies.models import Agency
from anticorruption.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import AssessmentRule, Obligation, ObligationScope, ReporterRule, ReportFile, ReportJob, TargetProposal, TargetProposalEvent
from .services import obligation_scope_set


class ObligationScopeForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label="適用的機關類別", choices=Agency.Kind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="「各機關」只展開為這些類別的機關；全部不勾表示所有類別。",
    )

    class Meta:
        model = ObligationScope
        fields = ["year", "kinds"]


@admin.register(ObligationScope)
class ObligationScopeAdmin(admin.ModelAdmin):
    form = ObligationScopeForm
    list_display = ["year", "kinds", "updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        # Saving the scope regenerates that year's obligations in the same step.
        scope = obligation_scope_set(year=obj.year, kinds=form.cleaned_data["kinds"], user=request.user)
        obj.pk = scope.pk


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    """Derived from the plan (generate_obligations); read here, never edited by hand."""

    list_display = ["year", "agency", "indicator", "role", "source"]
    list_filter = ["year", "role", "source", "agency__kind"]
    search_fields = ["agency__name", "indicator__text"]
    list_select_related = ["agency", "indicator__measure__strategy"]


@admin.register(AssessmentRule)
class AssessmentRuleAdmin(admin.ModelAdmin):
    """One row: administrators tune the tolerance behind "on track" (進度符合)."""

    list_display = ["__str__", "tolerance_percent", "updated_at", "updated_by"]
    fields = ["tolerance_percent", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not AssessmentRule.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class ReportFileInline(admin.TabularInline):
    model = ReportFile
    fields = ["format", "agency", "filename", "size", "sha256", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(agency__isnull=True)  # a batch's 4,000 agency files stay on its page


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnlyAdmin):
    """Report versions are records: read here; compiled and published on the reports page."""

    list_display = ["__str__", "version", "state", "draft", "requested_by", "requested_at", "published_at"]
    list_filter = ["kind", "year", "state", "draft"]
    inlines = [ReportFileInline]


class TargetProposalEventInline(ReadOnlyInline):
    model = TargetProposalEvent
    fields = ["at", "actor", "action", "from_state", "to_state", "changes", "comment"]
    readonly_fields = fields


@admin.register(TargetProposal)
class TargetProposalAdmin(ReadOnlyAdmin):
    """Proposals move only through the target-setting pages (/targets/); here they are read."""

    list_display = ["target_year", "measure", "label", "lead_agency", "kind", "quantity", "unit", "state", "updated_at"]
    list_filter = ["target_year__year", "state", "kind"]
    search_fields = ["text", "part_text", "lead_agency__name"]
    list_select_related = ["target_year", "measure__strategy", "lead_agency"]
    inlines = [TargetProposalEventInline]


@admin.register(ReporterRule)
class ReporterRuleAdmin(ReadOnlyAdmin):
    list_display = ["year", "indicator", "scope", "group", "reason", "created_by", "created_at", "replaced_at"]
    list_filter = ["year", "scope"]
    list_select_related = ["indicator__measure", "group", "created_by"]
