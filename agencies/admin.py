from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Agency, AgencyName, AuditEvent, RoleGrant, User


class AgencyNameInline(admin.TabularInline):
    model = AgencyName
    extra = 1
    fields = ["name", "is_official", "note"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "code", "parent", "kind", "has_integrity_unit", "is_active"]
    list_filter = ["kind", "is_active", "has_integrity_unit", "collective"]
    search_fields = ["name", "short_name", "code", "names__name"]
    autocomplete_fields = ["parent"]
    inlines = [AgencyNameInline]
    list_select_related = ["parent"]


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


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
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
        try:
            services.role_grant(user=obj.user, role=obj.role, granted_by=request.user, oversees_subordinates=obj.oversees_subordinates)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)

    @admin.action(description=_("撤銷選取的角色授權"))
    def revoke_selected(self, request, queryset):
        revoked = 0
        for grant in queryset.filter(revoked_at__isnull=True):
            services.role_revoke(grant=grant, revoked_by=request.user)
            revoked += 1
        self.message_user(request, _("已撤銷 %(count)d 項授權。") % {"count": revoked})


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "username", "actor", "subject", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "actor__username", "subject__username", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["actor", "subject"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
