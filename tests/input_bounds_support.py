"""Finds the inputs a route accepts without a bound: strings and lists without a maximum
length, integers without a range, in bodies, forms, query strings and the models in them."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from annotated_types import Ge, Le, MaxLen
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tests.test_isolation import http_routes


def _metadata_bounds(info: FieldInfo) -> set[str]:
    found = set()
    for item in info.metadata:
        if isinstance(item, MaxLen):
            found.add("max_length")
        if isinstance(item, Le) or getattr(item, "le", None) is not None:
            found.add("le")
        if isinstance(item, Ge) or getattr(item, "ge", None) is not None:
            found.add("ge")
        if getattr(item, "max_length", None) is not None:
            found.add("max_length")
    return found


def _unbounded(annotation: Any, bounds: set[str], where: str, seen: set[type]) -> Iterator[str]:
    """The places under ``annotation`` that accept input without a limit."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner, *extra = args
        extra_bounds = set(bounds)
        for item in extra:
            if isinstance(item, FieldInfo):
                extra_bounds |= _metadata_bounds(item)
            elif isinstance(item, MaxLen):
                extra_bounds.add("max_length")
            elif isinstance(item, Le):
                extra_bounds.add("le")
            elif isinstance(item, Ge):
                extra_bounds.add("ge")
        yield from _unbounded(inner, extra_bounds, where, seen)
        return
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _unbounded(arg, bounds, where, seen)
        return
    if origin is typing.Literal or annotation is type(None) or annotation is bool:
        return
    if origin in (list, set, frozenset, tuple, dict):
        if "max_length" not in bounds:
            yield f"{where}: a {origin.__name__} without max_length"
        for arg in args:
            if arg is not Ellipsis:
                yield from _unbounded(arg, set(), f"{where}[]", seen)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, info in annotation.model_fields.items():
            yield from _unbounded(
                info.annotation, _metadata_bounds(info), f"{annotation.__name__}.{name}", seen
            )
        return
    if annotation is str and "max_length" not in bounds:
        yield f"{where}: a str without max_length"
    if annotation is int and not {"le", "ge"} <= bounds:
        yield f"{where}: an int without ge/le"
    if annotation is Any:
        yield f"{where}: Any"


def unbounded_inputs(app: FastAPI) -> list[str]:
    """Every unbounded input of every route, as ``METHOD path: where: what``."""
    problems: list[str] = []
    for route in http_routes(app):
        dependant: Dependant | None = getattr(route, "dependant", None)
        if dependant is None:
            continue
        stack = [dependant]
        while stack:
            current = stack.pop()
            for field in (*current.query_params, *current.body_params, *current.header_params):
                info = field.field_info
                for problem in _unbounded(
                    info.annotation, _metadata_bounds(info), field.alias, set()
                ):
                    problems.append(f"{sorted(route.methods)[0]} {route.path}: {problem}")
            stack.extend(current.dependencies)
    return sorted(set(problems))
