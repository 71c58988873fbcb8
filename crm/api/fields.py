"""Serializer fields of the API.

DRF coerces JSON types (5 becomes "5" for a text field, "5" becomes 5 for a number, "true"
becomes True); the documented schema says otherwise, and a client that sends the wrong type
has a bug it should hear about. These fields accept only the JSON type the schema shows.
Related objects are chosen only among those the requesting user may see.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm import roles


def _reject_type(field, data, allowed: tuple[type, ...], type_name: str):
    if isinstance(data, bool) and bool not in allowed or not isinstance(data, allowed):
        raise serializers.ValidationError(
            _("Expected %(type)s, got %(got)s.") % {"type": type_name, "got": type(data).__name__}
        )


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        _reject_type(self, data, (str,), _("a string"))
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        _reject_type(self, data, (str,), _("a string"))
        return super().to_internal_value(data)


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data):
        _reject_type(self, data, (str,), _("a string"))
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        _reject_type(self, data, (int,), _("an integer"))
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        _reject_type(self, data, (bool,), _("true or false"))
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """Money travels as a decimal string ("19.90"), never a float."""

    def to_internal_value(self, data):
        _reject_type(self, data, (str,), _("a decimal string"))
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data):
        _reject_type(self, data, (int,), _("an integer id"))
        return super().to_internal_value(data)


class ScopedPrimaryKeyRelatedField(StrictPrimaryKeyRelatedField):
    """A related object by id, chosen only among those the requesting user may see: an id
    the user cannot see is "does not exist", as on the pages."""

    def get_queryset(self):
        qs = super().get_queryset()
        request = self.context.get("request")
        return roles.visible(request.user if request else None, qs)


class StrictModelSerializer(serializers.ModelSerializer):
    """ModelSerializer whose generated fields take only their documented JSON types."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.AutoField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
        models.CharField: StrictCharField,
        models.DecimalField: StrictDecimalField,
        models.EmailField: StrictEmailField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.TextField: StrictCharField,
        models.URLField: StrictURLField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
