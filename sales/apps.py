from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

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
            register_owner_change_listener,
            register_timeline_source,
        )
        from crm.roles import Role, register_policy
        from customers.policies import ReadOnlyForStaff

        from . import panels, summaries, timeline
        from .models import (
            Deal,
            DealLine,
            DealStageChange,
            Notification,
            Order,
            OrderLine,
            Pipeline,
            PipelineStage,
            Product,
            Task,
        )
        from .policies import (
            DealChildPolicy,
            DealPolicy,
            NotificationPolicy,
            OrderPolicy,
            TaskPolicy,
        )

        register_audited(Deal)
        register_audited(Order)
        register_policy(Product, ReadOnlyForStaff())
        register_policy(Order, OrderPolicy())
        register_policy(OrderLine, OrderPolicy())
        register_policy(Pipeline, ReadOnlyForStaff())
        register_policy(PipelineStage, ReadOnlyForStaff())
        register_policy(Deal, DealPolicy())
        register_policy(DealLine, DealChildPolicy())
        register_policy(DealStageChange, DealChildPolicy())
        register_policy(Task, TaskPolicy())
        register_policy(Notification, NotificationPolicy())

        sellers = frozenset({Role.SALES_REP, Role.MANAGER, Role.ADMIN})
        register_nav(NavEntry(_("Deals"), "sales:deal_board", "kanban", sellers, 15))
        register_nav(NavEntry(_("Orders"), "sales:order_list", "receipt", frozenset(Role), 20))
        register_nav(NavEntry(_("Tasks"), "sales:task_list", "check2-square", sellers, 22))
        register_nav(NavEntry(_("Reports"), "sales:report_index", "bar-chart", sellers, 24))

        register_customer_panel(
            CustomerPanel(
                key="sales_orders",
                template="sales/panels/customer_orders.html",
                get_context=panels.orders_panel,
                order=20,
            )
        )
        register_customer_panel(
            CustomerPanel(
                key="sales_deals",
                template="sales/panels/customer_deals.html",
                get_context=panels.deals_panel,
                roles=sellers,
                order=25,
            )
        )
        register_customer_panel(
            CustomerPanel(
                key="sales_tasks",
                template="sales/panels/customer_tasks.html",
                get_context=panels.tasks_panel,
                roles=sellers,
                order=27,
            )
        )
        register_timeline_source("order", timeline.order_events)
        register_timeline_source("deal_stage", timeline.deal_stage_events)
        # Revenue by rep follows the customer's owner: refresh the summaries on a change.
        register_owner_change_listener(summaries.customers_reassigned)

        from . import api

        api.register()  # REST API resources and webhook events

        from .import_setup import ready as imports_ready

        imports_ready()
