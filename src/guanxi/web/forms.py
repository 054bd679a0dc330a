"""Reading posted forms: every field with all its values, and a field's first value."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request


async def submitted_form(request: Request) -> dict[str, list[str]]:
    """Every text field of the posted form, each with all its values (checkboxes repeat)."""
    form = await request.form()
    return {
        key: [value for value in form.getlist(key) if isinstance(value, str)]
        for key in form
        if key != "csrf_token"
    }


SubmittedForm = Annotated[dict[str, list[str]], Depends(submitted_form)]


def form_value(form: dict[str, list[str]], name: str) -> str:
    """The first value of field ``name``, or an empty string."""
    return next(iter(form.get(name, [])), "")
