from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_save

        from .api.registry import register_viewset
        from .api.users import UserPolicy, UserViewSet
        from .roles import register_policy, sync_role_permissions
        from .security import end_sessions_of_inactive_user, forget_logout, record_login

        post_migrate.connect(sync_role_permissions, dispatch_uid="crm.sync_role_permissions")
        user_logged_in.connect(record_login, dispatch_uid="crm.record_login")
        user_logged_out.connect(forget_logout, dispatch_uid="crm.forget_logout")
        post_save.connect(
            end_sessions_of_inactive_user,
            sender=get_user_model(),
            dispatch_uid="crm.end_sessions_of_inactive_user",
        )
        register_policy(get_user_model(), UserPolicy())
        register_viewset("users", UserViewSet, "user")
