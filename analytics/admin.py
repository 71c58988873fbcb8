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


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "size", "run")
    list_select_related = ("run",)


@admin.register(AssociationRule)
class AssociationRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "antecedents", "consequents", "support", "confidence", "lift")
