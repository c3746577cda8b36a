from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ExportForm

from anticorruption.admin import ReadOnlyAdmin

from . import services
from .signals import client_ip
from .models import Agency, AgencyName, AuditEvent, RoleGrant, User
from .resources import ODS, AgencyResource


class AgencyNameInline(admin.TabularInline):
    model = AgencyName
    extra = 1
    fields = ["name", "is_official", "note"]


@admin.register(Agency)
class AgencyAdmin(ImportExportModelAdmin):
    """The registry, with import (preview, then confirm) and export of the
    whole list as a spreadsheet; see agencies/resources.py for the columns."""

    list_display = ["name", "short_name", "code", "parent", "kind", "has_integrity_unit", "is_active"]
    list_filter = ["kind", "is_active", "has_integrity_unit", "collective"]
    search_fields = ["name", "short_name", "code", "names__name"]
    autocomplete_fields = ["parent"]
    inlines = [AgencyNameInline]
    list_select_related = ["parent"]

    resource_classes = [AgencyResource]
    import_formats = export_formats = [XLSX, CSV, ODS]
    # The default export form offers a tick box per column labelled with its
    # English field name; this one lists the zh-Hant columns and exports them all.
    export_form_class = ExportForm
    # Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark.
    to_encoding = "utf-8-sig"

    def has_import_permission(self, request):
        # An import creates and changes agencies.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_filename(self, request, queryset, file_format):
        return f"agencies-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"

    def process_result(self, result, request):
        """The confirm step reads the file again. If the registry changed since
        the preview and a row no longer fits, nothing was written: say so, and
        log nothing for rows that were rolled back."""
        if result.has_errors() or result.has_validation_errors():
            self.message_user(request, _("未匯入任何資料：機關資料在預覽後已有變動，檔案中有資料列不再適用。請重新上傳檔案並檢視預覽。"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:agencies_agency_import", current_app=self.admin_site.name))
        return super().process_result(result, request)


@admin.register(AgencyName)
class AgencyNameAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "is_official", "note"]
    list_filter = ["is_official"]
    search_fields = ["name", "agency__name"]
    autocomplete_fields = ["agency"]


class RoleGrantInline(admin.TabularInline):
    """Grants are shown here; they are made and revoked on the 角色授權 page so each is recorded."""

    model = RoleGrant
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ["role", "oversees_subordinates", "granted_at", "granted_by", "revoked_at", "revoked_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("所屬機關"), {"fields": ["agency"]}),)
    list_display = ["username", "get_full_name", "agency", "is_staff", "is_active"]
    list_filter = BaseUserAdmin.list_filter + ("role_grants__role",)
    list_select_related = ["agency"]
    autocomplete_fields = ["agency"]
    inlines = [RoleGrantInline]


class RoleGrantForm(forms.ModelForm):
    class Meta:
        model = RoleGrant
        fields = ["user", "role", "oversees_subordinates"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("user") and cleaned.get("role"):
            services.role_grant_check(user=cleaned["user"], role=cleaned["role"], oversees_subordinates=cleaned.get("oversees_subordinates", False))
        return cleaned


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    form = RoleGrantForm
    list_display = ["user", "user_agency", "role", "oversees_subordinates", "granted_at", "granted_by", "revoked_at", "revoked_by"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__agency__name"]
    list_select_related = ["user__agency", "granted_by", "revoked_by"]
    autocomplete_fields = ["user"]
    fields = ["user", "role", "oversees_subordinates"]
    actions = ["revoke_selected"]

    @admin.display(description=_("所屬機關"))
    def user_agency(self, grant):
        return grant.user.agency

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the history must stay

    def save_model(self, request, obj, form, change):
        grant = services.role_grant(
            user=obj.user, role=obj.role, granted_by=request.user, oversees_subordinates=obj.oversees_subordinates, ip_address=client_ip(request)
        )
        obj.pk = grant.pk

    @admin.action(description=_("撤銷選取的角色授權"))
    def revoke_selected(self, request, queryset):
        revoked = 0
        for grant in queryset.filter(revoked_at__isnull=True):
            services.role_revoke(grant=grant, revoked_by=request.user, ip_address=client_ip(request))
            revoked += 1
        self.message_user(request, _("已撤銷 %(count)d 項授權。") % {"count": revoked})


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "username", "actor", "subject", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "actor__username", "subject__username", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["actor", "subject"]
