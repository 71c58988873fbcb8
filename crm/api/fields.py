"""Serializer fields that apply the role rules to related objects."""

from rest_framework import serializers

from crm import roles


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, chosen only among those the requesting user may see: an id
    the user cannot see is "does not exist", as on the pages."""

    def get_queryset(self):
        qs = super().get_queryset()
        request = self.context.get("request")
        return roles.visible(request.user if request else None, qs)
