"""Base classes for the apps' API: scoped querysets, role permissions, sensitive fields,
upsert by a natural key and all-or-nothing bulk create."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, filters, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import roles
from crm.locking import version_of

from . import webhooks
from .pagination import ApiCursorPagination
from .permissions import RolePermission


class SensitiveFieldsMixin:
    """Drops `Meta.sensitive_fields` (birth date, annual income) from the serializer for
    users without the "view_sensitive_fields" capability: they are neither shown nor
    written. Webhook payloads (no request) never carry them; the schema documents them."""

    def get_fields(self):
        fields = super().get_fields()
        if not self._may_see_sensitive():
            for name in getattr(self.Meta, "sensitive_fields", ()):
                fields.pop(name, None)
        return fields

    def to_internal_value(self, data):
        # Sent but not allowed: say so rather than dropping the value without a word.
        if isinstance(data, dict) and not self._may_see_sensitive():
            sent = [n for n in getattr(self.Meta, "sensitive_fields", ()) if n in data]
            if sent:
                message = _("Only managers and admins may see or set this field.")
                raise serializers.ValidationError({name: [message] for name in sent})
        return super().to_internal_value(data)

    def _may_see_sensitive(self) -> bool:
        view = self.context.get("view")
        if view is not None and getattr(view, "swagger_fake_view", False):
            return True
        request = self.context.get("request")
        return request is not None and roles.may(request.user, "view_sensitive_fields")


class ScopedViewSetMixin:
    """Every row through roles.visible (another user's object is a 404), every action
    through roles.can (RolePermission). Subclasses set `queryset`, `serializer_class`,
    and may override `optimize(qs)` for select_related/prefetch_related."""

    permission_classes = [RolePermission]
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    ordering = ["-id"]
    # Any path segment reaches the view, so a malformed id is a JSON 404 from DRF rather
    # than the site's HTML 404 page.
    lookup_value_regex = r"[^/]+"
    role_actions: dict[str, str] = {}

    def get_queryset(self):
        qs = roles.visible(self.request.user, super().get_queryset())
        return self.optimize(qs)

    def optimize(self, qs):
        return qs

    # Optimistic locking (crm.locking): a row with `updated_at` carries it as its ETag; a
    # PUT or PATCH sent with If-Match is refused with 412 when the row changed since.
    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return self._with_etag(Response(self.get_serializer(instance).data), instance)

    @staticmethod
    def _with_etag(response, instance):
        tag = _etag(instance)
        if tag:
            response["ETag"] = tag
        return response

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as exc:
            names = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
            raise Conflict(
                _("Cannot delete: other records (%(what)s) still refer to it.")
                % {"what": ", ".join(names)}
            ) from exc


def _etag(instance) -> str:
    version = version_of(instance)
    return f'"{version}"' if version else ""


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "Precondition failed."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


# Token requests carry no session: LoginRequiredMiddleware must let them through to DRF,
# whose authentication and RolePermission answer 401/403 instead of a redirect.
class IfMatchUpdateMixin:
    """PUT/PATCH with If-Match: refused with 412 when the row changed since it was read.
    Only on viewsets that update (a read-only viewset with an `update` attribute would be
    routed PUT and PATCH by DRF's router)."""

    def update(self, request, *args, **kwargs):
        expected = request.headers.get("If-Match")
        if expected is None:
            return super().update(request, *args, **kwargs)
        with transaction.atomic():
            instance = self.get_object()
            current = type(instance)._base_manager.select_for_update().get(pk=instance.pk)
            tags = {t.strip() for t in expected.split(",")}
            if "*" not in tags and _etag(current) not in tags:
                raise PreconditionFailed(
                    _(
                        "Someone else changed this record after you read it; nothing was "
                        "saved. Read it again and repeat the change."
                    )
                )
            response = super().update(request, *args, **kwargs)
        instance.refresh_from_db()
        return self._with_etag(response, instance)


@method_decorator(login_not_required, name="dispatch")
class ScopedModelViewSet(IfMatchUpdateMixin, ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


@method_decorator(login_not_required, name="dispatch")
class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


def flatten_errors(detail: Any, prefix: str = "") -> list[tuple[str, str]]:
    """[(field path, message)] from DRF's nested error structure ("lines[1].quantity")."""
    out: list[tuple[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # DRF reports a nested list's errors by index
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.extend((prefix or "non_field_errors", str(item)) for item in detail)
        else:
            for i, item in enumerate(detail):
                if item:
                    out.extend(flatten_errors(item, f"{prefix}[{i}]"))
    else:
        out.append((prefix or "non_field_errors", str(detail)))
    return out


def service_error(
    exc: DjangoValidationError, field: str = "non_field_errors"
) -> serializers.ValidationError:
    """A service's ValidationError as DRF's 400: per field when the service named fields,
    otherwise under `field`."""
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({field: exc.messages})


class BulkCreateMixin:
    """POST /<resource>/bulk/ with a JSON array of up to API_BULK_MAX_ROWS objects.

    Every row is validated first; if any row fails, the answer is 400 with each error's row
    index and field, and nothing is written. Otherwise all rows are created in one
    transaction and their webhook events are sent as one batch after it commits.
    `bulk_unique_field` (external_id, sku) must not repeat within a batch.
    """

    bulk_unique_field: str | None = None

    @extend_schema(
        summary="Create many rows at once (all or nothing)",
        description=(
            "A JSON array of up to 1,000 objects, each as for create. Every row is validated "
            "first; when any fails, the answer is 400 with `errors` listing each row's index, "
            "field and message, and nothing is saved."
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk_create(self, request, *args, **kwargs):
        # *args/**kwargs: the router's format-suffix route (bulk.json) passes `format`.
        rows = request.data
        limit = settings.API_BULK_MAX_ROWS
        if not isinstance(rows, list):
            return self._bulk_error(None, "non_field_errors", _("Send a JSON array of objects."))
        if not rows:
            return self._bulk_error(None, "non_field_errors", _("The array is empty."))
        if len(rows) > limit:
            return self._bulk_error(
                None,
                "non_field_errors",
                _("At most %(limit)d rows per request; this one has %(count)d.")
                % {"limit": limit, "count": len(rows)},
            )
        errors: list[dict] = []
        valid = []
        seen: dict[str, int] = {}
        key = self.bulk_unique_field
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append(
                    {"index": index, "field": "non_field_errors", "message": _("Not an object.")}
                )
                continue
            if key and row.get(key) not in (None, ""):
                value = str(row[key])
                if value in seen:
                    errors.append(
                        {
                            "index": index,
                            "field": key,
                            "message": _("Repeats row %(row)d of this batch.")
                            % {"row": seen[value]},
                        }
                    )
                    continue
                seen[value] = index
            serializer = self.get_serializer(data=row)
            if serializer.is_valid():
                valid.append((index, serializer))
            else:
                errors.extend(
                    {"index": index, "field": field, "message": message}
                    for field, message in flatten_errors(serializer.errors)
                )
        if errors:
            return Response(
                {"detail": _("No row was saved: fix the rows listed."), "errors": errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            with transaction.atomic(), webhooks.batch():
                for _index, serializer in valid:
                    self.perform_create(serializer)
        except IntegrityError:
            return self._bulk_error(
                None,
                "non_field_errors",
                _("A row clashed with data saved meanwhile; nothing was saved. Try again."),
            )
        results = [{"index": index, "id": s.instance.pk} for index, s in valid]
        return Response({"count": len(results), "results": results}, status=status.HTTP_201_CREATED)

    def _bulk_error(self, index, field, message):
        return Response(
            {"detail": message, "errors": [{"index": index, "field": field, "message": message}]},
            status=status.HTTP_400_BAD_REQUEST,
        )


class UpsertMixin:
    """PUT /<resource>/<segment>/<key>/: create the object with that natural key (201), or
    update the existing one with the fields sent (200; fields left out keep their values).
    The key in the URL wins over the body.
    Replacing needs the "change" permission on the object, creating the "add" permission."""

    upsert_field = "external_id"

    def upsert_object(self, request, key: str) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        data = {**request.data, self.upsert_field: key}
        model = self.get_queryset().model
        for _attempt in range(2):
            existing = model._default_manager.filter(**{self.upsert_field: key}).first()
            if existing is not None:
                instance = self.get_queryset().filter(pk=existing.pk).first()
                if instance is None:
                    raise exceptions.NotFound()
                self.check_object_permissions(request, instance)
                if not roles.can(request.user, "change", instance):
                    raise exceptions.PermissionDenied()
                serializer = self.get_serializer(instance, data=data)
                serializer.is_valid(raise_exception=True)
                self.perform_update(serializer)
                return Response(serializer.data, status=status.HTTP_200_OK)
            if not roles.can(request.user, "add", model):
                raise exceptions.PermissionDenied()
            serializer = self.get_serializer(data=data)
            serializer.is_valid(raise_exception=True)
            try:
                with transaction.atomic():
                    self.perform_create(serializer)
            except IntegrityError:
                continue  # created by a concurrent request: replace it instead
            return Response(serializer.data, status=status.HTTP_201_CREATED)
        raise exceptions.ValidationError({self.upsert_field: [_("Could not save; try again.")]})


def upsert_action(field: str, segment: str, key_description: str):
    """The `upsert` route of a viewset, e.g. upsert_action("sku", "by-sku", "The SKU")."""

    @extend_schema(
        summary=f"Create or update by {field}",
        description=(
            f"Creates the object whose `{field}` is the key in the URL (201), or updates the "
            "existing one with the fields sent (200; fields left out keep their values). Use "
            "it to keep another system's records in step without looking up ids first."
        ),
        parameters=[
            OpenApiParameter("key", str, OpenApiParameter.PATH, description=key_description)
        ],
    )
    @action(detail=False, methods=["put"], url_path=rf"{segment}/(?P<key>[^/]+)")
    def upsert(self, request, key, *args, **kwargs):
        return self.upsert_object(request, key)

    return upsert
