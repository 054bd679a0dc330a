"""The OpenAPI document at ``/api/v1/openapi.json``, made to say what the API really does.

It describes the JSON API only (the pages answer HTML to a signed-in browser, not to a
token), and every operation lists the error answers the app gives, in the shapes it gives
them: ``{"detail": ...}`` for 400/401/403/404/409/413, and ``{"detail": ..., "errors":
[...]}`` for 422 (not FastAPI's default validation schema, which the app never sends).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from guanxi.core.bounds import DB_INT_MAX, DB_INT_MIN
from guanxi.web.limits import DEFAULT_MAX_BODY_BYTES, MAX_JSON_DEPTH, MB

API_PREFIX = "/api/"
REF = "#/components/schemas/{model}"


class ErrorRead(BaseModel):
    """An error: what was wrong and what to do, in the token owner's language."""

    detail: str


class FieldProblem(BaseModel):
    """One field of the request that is not valid."""

    field: str
    message: str


class ValidationErrorRead(BaseModel):
    """A request that is not valid: a summary, and each field to correct."""

    detail: str
    errors: list[FieldProblem]


ERROR_ANSWERS: dict[str, tuple[str, type[BaseModel]]] = {
    "400": ("The request cannot be carried out as sent; `detail` says what to change.", ErrorRead),
    "401": ("No API token, or an unknown or revoked one.", ErrorRead),
    "403": ("The token's role does not allow this.", ErrorRead),
    "404": ("Nothing with this address or id in the token's workspace.", ErrorRead),
    "409": ("The request clashes with existing data.", ErrorRead),
    "413": ("The body is larger than this address accepts.", ErrorRead),
    "422": ("Fields that are not valid, each with what to correct.", ValidationErrorRead),
}
LIMITS_NOTE = (
    f"\n\nA request body holds at most {DEFAULT_MAX_BODY_BYTES // MB} MB (413 beyond) and "
    f"JSON nests at most {MAX_JSON_DEPTH} levels (400 beyond). An integer in a path or query "
    "beyond the signed 32-bit range (the database's ids) is 404."
)


def describe_api(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the API's document with its errors declared."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            _declare_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_errors(schema: dict[str, Any]) -> None:
    schema["paths"] = {
        path: item for path, item in schema["paths"].items() if path.startswith(API_PREFIX)
    }
    schema["info"]["description"] = schema["info"].get("description", "") + LIMITS_NOTE
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    models: tuple[type[BaseModel], ...] = (ErrorRead, FieldProblem, ValidationErrorRead)
    for schema_model in models:
        definition = schema_model.model_json_schema(ref_template=REF)
        definition.pop("$defs", None)
        components[schema_model.__name__] = definition
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    for item in schema["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                _bound_integers(parameter.get("schema", {}))
            responses = operation.setdefault("responses", {})
            for status, (description, model) in ERROR_ANSWERS.items():
                responses[status] = {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}
                    },
                }


def _bound_integers(schema: dict[str, Any]) -> None:
    """Integer parameters hold what the database can: anything beyond is answered 404."""
    for option in (schema, *schema.get("anyOf", [])):
        if option.get("type") == "integer":
            option.setdefault("minimum", DB_INT_MIN)
            option.setdefault("maximum", DB_INT_MAX)
