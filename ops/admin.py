from django.contrib import admin

from .models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "queues", "pid", "started_at", "seen_at"]
    readonly_fields = list_display

    # Workers write their own heartbeats; an "add" of the all-read-only form was a 500 (no pid).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
