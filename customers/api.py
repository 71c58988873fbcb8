"""REST API for customers (with their contacts, tags and needs) and interactions.

Serializers validate (contact data through customers.cleaning); viewsets come from crm.api
(scoped by crm.roles, upsert, bulk); `register()` (called from CustomersConfig.ready) adds
them to /api/v1/ and connects the webhook events.
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers

from crm import roles
from crm.api import webhooks
from crm.api.fields import (
    ScopedPrimaryKeyRelatedField,
    StrictCharField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from crm.api.registry import WebhookEvent, register_event, register_viewset
from crm.api.viewsets import (
    BulkCreateMixin,
    ScopedModelViewSet,
    SensitiveFieldsMixin,
    UpsertMixin,
    upsert_action,
)
from crm.templatetags.crm_tags import age_band_of

from .choices import CustomerKind, NeedStatus
from .cleaning import normalize_email, normalize_phone
from .models import Customer, Interaction, Need, Tag

User = get_user_model()

# What a support agent may change on any customer ("change_contact" in the policy).
CONTACT_FIELDS = frozenset({"email", "phone", "street", "city", "region", "postal_code", "country"})


class TagSerializer(StrictModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]

    def validate_name(self, value: str) -> str:
        name = " ".join(value.split()).lower()
        if Tag.objects.filter(name=name).exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError(_("A tag with this name already exists."))
        return name


class TagNamesField(serializers.ListField):
    """Tags by name: read from the (prefetched) relation, written as a list of names."""

    child = StrictCharField(max_length=50)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]


class CustomerSerializer(SensitiveFieldsMixin, StrictModelSerializer):
    """A customer. `birth_date` and `annual_income` appear only for managers and admins;
    other roles get `age_band` instead. `tags` are names; `organisation` is the id of the
    organisation a person belongs to."""

    organisation = ScopedPrimaryKeyRelatedField(
        queryset=Customer.objects.filter(kind=CustomerKind.ORGANISATION),
        allow_null=True,
        required=False,
    )
    owner = StrictPrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )
    tags = TagNamesField(required=False, default=list)
    age_band = serializers.SerializerMethodField()
    email = StrictCharField(max_length=254, required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "kind",
            "name",
            "email",
            "phone",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "birth_date",
            "age_band",
            "gender",
            "annual_income",
            "education",
            "occupation",
            "industry",
            "size",
            "website",
            "organisation",
            "owner",
            "lifecycle_stage",
            "source",
            "tags",
            "marketing_consent",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        sensitive_fields = ("birth_date", "annual_income")
        extra_kwargs = {"external_id": {"validators": []}}

    def get_age_band(self, obj) -> str:
        return age_band_of(obj.birth_date)

    def _user(self):
        request = self.context.get("request")
        return request.user if request else None

    def validate_email(self, value: str) -> str:
        clean, error = normalize_email(value)
        if error:
            raise serializers.ValidationError(error)
        return clean

    def validate_country(self, value: str) -> str:
        value = value.strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise serializers.ValidationError(_("Use the two-letter ISO 3166 code, e.g. “US”."))
        return value

    def validate_external_id(self, value: str) -> str:
        value = value.strip()
        if value:
            clash = Customer.objects.filter(external_id=value)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    _("A customer with this external ID already exists.")
                )
        return value

    def validate_tags(self, names: list[str]) -> list[Tag]:
        wanted = {" ".join(n.split()).lower() for n in names if n.strip()}
        found = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
        missing = sorted(wanted - found.keys())
        if missing:
            if not roles.can(self._user(), "add", Tag):
                raise serializers.ValidationError(
                    _("Unknown tags: %(tags)s. Only managers create tags.")
                    % {"tags": ", ".join(missing)}
                )
            for name in missing:
                found[name] = Tag(name=name)
        return list(found.values())

    def validate_owner(self, owner):
        user = self._user()
        current = self.instance.owner if self.instance is not None else None
        if owner != current and owner != user and not roles.may(user, "reassign_work"):
            raise serializers.ValidationError(
                _("Only managers may give a customer to someone else.")
            )
        return owner

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", CustomerKind.PERSON))
        country = attrs.get("country", getattr(self.instance, "country", "")) or None
        if "phone" in attrs:
            clean, error = normalize_phone(attrs["phone"], country)
            if error:
                raise serializers.ValidationError({"phone": error})
            attrs["phone"] = clean
        organisation = attrs.get("organisation")
        if organisation is not None:
            if kind == CustomerKind.ORGANISATION:
                raise serializers.ValidationError(
                    {"organisation": _("Only a person belongs to an organisation.")}
                )
            if self.instance is not None and organisation.pk == self.instance.pk:
                raise serializers.ValidationError(
                    {"organisation": _("A customer cannot belong to itself.")}
                )
        return attrs

    def _save_tags(self, customer, tags):
        for tag in tags:
            if tag.pk is None:
                tag.save()
        customer.tags.set(tags)

    def create(self, validated_data):
        tags = validated_data.pop("tags", [])
        if "owner" not in validated_data:
            validated_data["owner"] = self._user()
        customer = Customer.objects.create(**validated_data)
        self._save_tags(customer, tags)
        return customer

    def update(self, instance, validated_data):
        tags = validated_data.pop("tags", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if tags is not None:
            self._save_tags(instance, tags)
        return instance


class CustomerFilter(django_filters.FilterSet):
    # Ids as plain numbers: an unknown id filters to nothing instead of a 400.
    owner = django_filters.NumberFilter(field_name="owner_id")
    organisation = django_filters.NumberFilter(field_name="organisation_id")
    q = django_filters.CharFilter(method="search", label=gettext_lazy("search"))
    tag = django_filters.CharFilter(field_name="tags__name", label=gettext_lazy("tag"))
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = [
            "kind",
            "lifecycle_stage",
            "owner",
            "organisation",
            "country",
            "city",
            "external_id",
            "email",
            "source",
        ]

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(phone__icontains=value)
        )


class CustomerViewSet(UpsertMixin, BulkCreateMixin, ScopedModelViewSet):
    """Customers: everyone reads; reps create and change their own; agents change contact
    details (email, phone, address) with PATCH; managers and admins do everything.
    An organisation's contact persons: `GET /customers/?organisation=<id>`."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["id", "name", "created_at", "updated_at"]
    bulk_unique_field = "external_id"
    upsert = upsert_action("external_id", "by-external-id", "The customer's external ID.")

    def optimize(self, qs):
        return qs.prefetch_related("tags")

    def check_object_permissions(self, request, obj):
        user = request.user
        if (
            self.action in ("update", "partial_update")
            and not roles.can(user, "change", obj)
            and roles.can(user, "change_contact", obj)
        ):
            extra = set(request.data) - CONTACT_FIELDS if isinstance(request.data, dict) else {""}
            if not extra:
                return
            raise exceptions.PermissionDenied(
                _("You may change only the contact details: %(fields)s.")
                % {"fields": ", ".join(sorted(CONTACT_FIELDS))}
            )
        super().check_object_permissions(request, obj)


class TagViewSet(ScopedModelViewSet):
    """Tags: everyone reads, managers and admins write."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    filterset_fields = ["name"]
    ordering_fields = ["id", "name"]


class NeedSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())

    class Meta:
        model = Need
        fields = [
            "id",
            "customer",
            "description",
            "priority",
            "status",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = ["created_at", "resolved_at"]

    def validate(self, attrs):
        status = attrs.get("status")
        if status in (NeedStatus.MET, NeedStatus.DROPPED):
            attrs["resolved_at"] = getattr(self.instance, "resolved_at", None) or timezone.now()
        elif status is not None:
            attrs["resolved_at"] = None
        return attrs


class NeedFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Need
        fields = ["customer", "status", "priority"]


class NeedViewSet(ScopedModelViewSet):
    """What customers want. Reps and agents read and add; managers change and delete."""

    queryset = Need.objects.all()
    serializer_class = NeedSerializer
    filterset_class = NeedFilter
    ordering_fields = ["id", "created_at"]


class InteractionSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    related_type = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "direction",
            "occurred_at",
            "user",
            "subject",
            "body",
            "duration_minutes",
            "related_type",
            "related_id",
            "created_at",
        ]
        read_only_fields = ["user", "related_id", "created_at"]

    def get_related_type(self, obj) -> str | None:
        """ "sales.deal", "service.ticket"…: what the interaction concerns, with related_id."""
        if obj.related_type_id is None:
            return None
        ct = obj.related_type
        return f"{ct.app_label}.{ct.model}"

    def create(self, validated_data):
        request = self.context.get("request")
        validated_data["user"] = request.user if request else None
        return super().create(validated_data)


class InteractionFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    user = django_filters.NumberFilter(field_name="user_id")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ["customer", "channel", "direction", "user"]


class InteractionViewSet(BulkCreateMixin, ScopedModelViewSet):
    """The communication log. Reps and agents read and log; managers change and delete."""

    queryset = Interaction.objects.all()
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    ordering_fields = ["id", "occurred_at"]

    def optimize(self, qs):
        return qs.select_related("related_type")


def _serialize_customers(qs):
    return CustomerSerializer(qs.prefetch_related("tags"), many=True).data


def _customer_saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata
        return
    webhooks.emit("customer.created" if created else "customer.changed", instance)


def register() -> None:
    register_viewset("customers", CustomerViewSet, "customer")
    register_viewset("tags", TagViewSet, "tag")
    register_viewset("needs", NeedViewSet, "need")
    register_viewset("interactions", InteractionViewSet, "interaction")
    for name, label in (
        ("customer.created", gettext_lazy("Customer created")),
        ("customer.changed", gettext_lazy("Customer changed")),
    ):
        register_event(WebhookEvent(name, label, "customers.customer", _serialize_customers))
    # post_save, not a service call: customers/services.py does not exist yet, and a receiver
    # also covers the admin and any later service. Bulk paths use webhooks.batch().
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid="api.customer_saved")
