from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from .api.registry import register_viewset
        from .api.users import UserPolicy, UserViewSet
        from .roles import register_policy, sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="crm.sync_role_permissions")
        register_policy(get_user_model(), UserPolicy())
        register_viewset("users", UserViewSet, "user")
