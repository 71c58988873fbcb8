from django.contrib import admin

from .models import Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "customer",
        "category",
        "priority",
        "status",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "category", "channel"]
    search_fields = ["subject", "customer__name"]
    raw_id_fields = ["customer", "order", "assignee"]
    list_select_related = ["customer", "assignee"]
    show_full_result_count = False
