from django.contrib import admin

from .models import AssociationRule, JobRun, Segment


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "progress",
        "started_by",
        "created_at",
        "duration_seconds",
        "peak_memory_mb",
    )
    list_filter = ("kind", "status")
    list_select_related = ("started_by",)
    readonly_fields = [f.name for f in JobRun._meta.fields]

    # A run is a record of what a job did: started from the Jobs page or `run_job`, never
    # typed in. With every field read-only an "add" (or a "save") of the empty form would
    # write a run with no job kind.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "size", "run")
    list_select_related = ("run",)


@admin.register(AssociationRule)
class AssociationRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "antecedents", "consequents", "support", "confidence", "lift")
