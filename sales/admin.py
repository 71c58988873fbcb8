from django.contrib import admin

from .models import Deal, DealLine, Order, OrderLine, Pipeline, PipelineStage, Product, Task


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_price", "active"]
    list_filter = ["active", "category"]
    search_fields = ["sku", "name"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "ordered_at", "status", "total"]
    list_filter = ["status"]
    search_fields = ["external_id", "customer__name"]
    raw_id_fields = ["customer", "created_by"]
    list_select_related = ["customer"]
    show_full_result_count = False
    inlines = [OrderLineInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        order = form.instance
        order.recompute_total()
        order.save(update_fields=["total"])


class PipelineStageInline(admin.TabularInline):
    model = PipelineStage
    extra = 0
    fields = ["order", "name", "probability", "outcome"]
    ordering = ["order", "id"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    """Admins manage pipelines and their stages here (order, win probability, outcome)."""

    list_display = ["name", "position", "active"]
    list_editable = ["position", "active"]
    inlines = [PipelineStageInline]


class DealLineInline(admin.TabularInline):
    model = DealLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Data repair only: stage moves go through the board so they are recorded."""

    list_display = ["title", "customer", "pipeline", "stage", "owner", "amount", "expected_close"]
    list_filter = ["pipeline", "stage__outcome"]
    search_fields = ["title", "customer__name"]
    raw_id_fields = ["customer", "owner", "order"]
    readonly_fields = ["pipeline", "stage", "stage_entered_at", "closed_at"]
    list_select_related = ["customer", "pipeline", "stage", "owner"]
    show_full_result_count = False
    inlines = [DealLineInline]

    def has_add_permission(self, request):
        return False  # deals start on a customer's page, where the first stage is recorded


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "assignee", "due_at", "done", "reminder_sent_at"]
    list_filter = ["done"]
    search_fields = ["title"]
    raw_id_fields = ["assignee", "customer", "deal", "created_by"]
    list_select_related = ["assignee"]
