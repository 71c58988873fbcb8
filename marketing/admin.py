from django.contrib import admin

from .models import Campaign, CampaignRecipient, EmailTemplate, OutboundEmail


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "subject_en", "updated_at"]
    search_fields = ["name"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_address", "status", "attempts", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["customer", "sender", "interaction", "template"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "target_kind", "started_at", "finished_at"]
    list_filter = ["status"]
    raw_id_fields = ["template", "segment", "saved_view", "created_by"]


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(admin.ModelAdmin):
    list_display = ["campaign", "customer", "holdout", "status", "sent_at"]
    list_filter = ["status", "holdout"]
    raw_id_fields = ["campaign", "customer"]
