from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Agency, AgencyName, User


class AgencyNameInline(admin.TabularInline):
    model = AgencyName
    extra = 1
    fields = ["name", "is_official", "note"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "parent", "collective"]
    list_filter = ["collective", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "short_name", "names__name"]
    autocomplete_fields = ["parent"]
    inlines = [AgencyNameInline]


@admin.register(AgencyName)
class AgencyNameAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "is_official", "note"]
    list_filter = ["is_official"]
    search_fields = ["name", "agency__name"]
    autocomplete_fields = ["agency"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("所屬機關"), {"fields": ["agency"]}),)
    list_display = ["username", "get_full_name", "agency", "is_staff", "is_active"]
    list_filter = BaseUserAdmin.list_filter + ("agency",)
    autocomplete_fields = ["agency"]
