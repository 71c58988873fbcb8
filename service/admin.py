from django.contrib import admin

from .models import (
    Article,
    ArticleCategory,
    BusinessHours,
    CannedReply,
    Feedback,
    Holiday,
    SLABreach,
    SLAPolicy,
    SurveyInvitation,
    Ticket,
    TicketComment,
    TicketStatusChange,
)


class TicketCommentInline(admin.TabularInline):
    model = TicketComment
    extra = 0
    raw_id_fields = ["author"]
    fields = ["created_at", "author", "is_public", "body", "emailed_at"]
    readonly_fields = ["emailed_at"]


class TicketStatusChangeInline(admin.TabularInline):
    model = TicketStatusChange
    extra = 0
    raw_id_fields = ["changed_by"]
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]
    can_delete = False


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
    raw_id_fields = ["customer", "order", "assignee", "merged_into"]
    list_select_related = ["customer", "assignee"]
    show_full_result_count = False
    inlines = [TicketCommentInline, TicketStatusChangeInline]


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "first_response_minutes", "resolution_minutes", "time_zone"]
    inlines = [BusinessHoursInline, HolidayInline]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "policy"]
    list_filter = ["policy"]
    date_hierarchy = "date"


@admin.register(SLABreach)
class SLABreachAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "due_at", "detected_at", "notified_at", "assignee"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket", "assignee"]
    list_select_related = ["ticket", "assignee"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["customer", "ticket", "csat", "ces", "nps", "agent", "submitted_at"]
    list_filter = ["csat", "category"]
    raw_id_fields = ["customer", "ticket", "order", "invitation", "agent"]
    list_select_related = ["customer", "ticket", "agent"]
    show_full_result_count = False


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ["customer", "ticket", "order", "created_at", "expires_at", "sent_at", "used_at"]
    raw_id_fields = ["customer", "ticket", "order"]
    exclude = ["nonce"]
    list_select_related = ["customer", "ticket", "order"]


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status", "updated_at"]
    list_filter = ["status", "category"]
    search_fields = ["title", "body"]
    raw_id_fields = ["author"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "created_by"]
    search_fields = ["title", "body"]
    raw_id_fields = ["created_by"]
