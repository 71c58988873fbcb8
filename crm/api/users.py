"""Users, read only: for the office system (employees) and for picking owners/assignees."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm import roles
from crm.roles import FullAccessForManagers, Role

from .fields import StrictModelSerializer
from .viewsets import ScopedReadOnlyViewSet

User = get_user_model()


class UserPolicy(FullAccessForManagers):
    """Managers and admins see every user; reps and agents see active colleagues (to know
    who owns or works what). Users are written in the Django admin, never through the API."""

    def scope(self, user, role, qs):
        if role in (Role.MANAGER, Role.ADMIN):
            return qs
        return qs.filter(is_active=True)

    def allows(self, user, role, action, obj):
        return action == "view" and (
            obj is None or obj.is_active or role in (Role.MANAGER, Role.ADMIN)
        )


class UserSerializer(StrictModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "role",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=[r.value for r in Role], allow_null=True))
    def get_role(self, obj) -> str | None:
        # From the prefetched groups (roles.role_of would ask the database once per user).
        if obj.is_superuser:
            return Role.ADMIN.value
        names = {group.name for group in obj.groups.all()}
        return next((r.value for r in roles._ROLE_ORDER if r.value in names), None)


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role", label="role")

    class Meta:
        model = User
        fields = {"username": ["exact"], "email": ["exact"], "is_active": ["exact"]}

    def filter_role(self, qs, name, value):
        if value == Role.ADMIN:
            return qs.filter(groups__name=value) | qs.filter(is_superuser=True)
        return qs.filter(groups__name=value)


class UserViewSet(ScopedReadOnlyViewSet):
    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["id", "username", "date_joined"]

    def optimize(self, qs):
        return qs.prefetch_related("groups")
