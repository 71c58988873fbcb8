from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from crm.registry import register_personal_data

        from .privacy import source as personal_data_source

        register_personal_data(personal_data_source)
        from crm.history import register_audited
        from crm.registry import (
            CustomerPanel,
            NavEntry,
            register_customer_panel,
            register_nav,
            register_timeline_source,
        )
        from crm.roles import Role, register_policy

        from . import panels
        from .models import Article, CannedReply, Feedback, Ticket, TicketComment
        from .policies import (
            ArticlePolicy,
            CannedReplyPolicy,
            FeedbackPolicy,
            TicketChildPolicy,
            TicketPolicy,
        )

        register_audited(Ticket)
        register_audited(Feedback)
        register_policy(Ticket, TicketPolicy())
        register_policy(TicketComment, TicketChildPolicy())
        register_policy(Feedback, FeedbackPolicy())
        register_policy(Article, ArticlePolicy())
        register_policy(CannedReply, CannedReplyPolicy())

        register_nav(
            NavEntry(_("Tickets"), "service:ticket_list", "life-preserver", frozenset(Role), 40)
        )
        register_nav(
            NavEntry(_("Knowledge base"), "service:article_list", "book", frozenset(Role), 42)
        )
        figures = frozenset({Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN})
        register_nav(
            NavEntry(_("Satisfaction"), "service:satisfaction", "emoji-smile", figures, 44)
        )
        register_customer_panel(
            CustomerPanel(
                key="service_tickets",
                template="service/partials/customer_panel.html",
                get_context=panels.customer_panel_context,
                order=40,
            )
        )
        register_timeline_source("ticket", panels.ticket_events)
        register_timeline_source("feedback", panels.feedback_events)

        from . import api

        api.register()  # REST API resources and webhook events
