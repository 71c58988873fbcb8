"""OpenAPI generation (drf-spectacular): every operation documents the errors it can
answer with, so clients (and schemathesis) know 401, 403, 404, 429 and validation errors
are part of the contract, and bulk endpoints take an array of rows."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
_BULK_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer", "nullable": True},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "additionalProperties": True,
}
_BULK_RESULT_SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "id": {"type": "integer"}},
                "required": ["index", "id"],
            },
        },
    },
    "required": ["count", "results"],
}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class CrmAutoSchema(AutoSchema):
    def _get_parameters(self):
        params = super()._get_parameters()
        for param in params:
            # Filters, ordering and the cursor treat an empty value as "not given" (as HTML
            # forms send them); page_size does not.
            if param.get("in") == "query" and param.get("name") != "page_size":
                param["allowEmptyValue"] = True
        return params

    def get_request_serializer(self):
        serializer = super().get_request_serializer()
        if getattr(self.view, "action", None) == "bulk_create" and serializer is not None:
            cls = serializer if isinstance(serializer, type) else type(serializer)
            return cls(many=True)
        return serializer

    def _get_response_bodies(self, direction="response"):
        action = getattr(self.view, "action", None)
        if action == "bulk_create" and direction == "response":
            responses = {
                "201": _json("Every row was created.", _BULK_RESULT_SCHEMA),
                "400": _json(
                    "At least one row was invalid; nothing was saved.", _BULK_ERROR_SCHEMA
                ),
            }
        else:
            responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {
            "401": "No or an invalid token.",
            "403": "The user's role may not do this.",
            "429": "Too many requests; see the Retry-After header.",
        }
        if "{" in self.path:
            errors["404"] = "No such object, or not one the user may see."
        if self.method == "GET" and self._is_list_view():
            errors["400"] = "Invalid filter, ordering, cursor or page size."
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = "Invalid input; messages by field."
            errors["415"] = "Unsupported media type."
        if self.method == "DELETE":
            errors["409"] = "Other records still refer to the object."
        if action == "upsert":
            responses.setdefault("201", responses.get("200", _json("Created.", {"type": "object"})))
        for code, description in errors.items():
            responses.setdefault(code, _json(description, _ERROR_SCHEMA))
        return responses
