from django.contrib import admin

from .models import (
    Customer,
    CustomerMerge,
    ErasureRecord,
    Interaction,
    LifecycleChange,
    Need,
    SavedView,
    Tag,
)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class NeedInline(admin.TabularInline):
    model = Need
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "email", "phone", "city", "country", "lifecycle_stage", "owner"]
    list_filter = ["kind", "lifecycle_stage", "country"]
    search_fields = ["name", "email", "phone", "external_id"]
    raw_id_fields = ["organisation", "owner"]
    autocomplete_fields = ["tags"]
    list_select_related = ["owner"]
    show_full_result_count = False  # a count over 1M rows on every page is not worth it
    inlines = [NeedInline]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["subject", "customer", "channel", "direction", "occurred_at", "user"]
    list_filter = ["channel", "direction"]
    search_fields = ["subject", "customer__name"]
    raw_id_fields = ["customer", "user"]
    list_select_related = ["customer", "user"]
    show_full_result_count = False


@admin.register(LifecycleChange)
class LifecycleChangeAdmin(admin.ModelAdmin):
    list_display = ["customer", "from_stage", "to_stage", "changed_at", "changed_by"]
    list_filter = ["to_stage"]
    raw_id_fields = ["customer", "changed_by"]
    list_select_related = ["customer", "changed_by"]
    show_full_result_count = False


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["merged_name", "merged_id", "kept", "merged_by", "merged_at"]
    raw_id_fields = ["kept", "merged_by"]
    readonly_fields = ["snapshot", "moved"]
    list_select_related = ["kept", "merged_by"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query_string", "created_at"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """Who erased whose personal data, and when: a record nobody edits or deletes."""

    list_display = ["customer_ref", "erased_by", "erased_at"]
    readonly_fields = ["customer", "customer_ref", "erased_by", "erased_at", "counts"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
