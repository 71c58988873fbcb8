from django.contrib import admin

from .models import Order, OrderLine, Product


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
