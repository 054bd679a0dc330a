"""Reading posted forms: every field with all its values, and a field's first value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

T = TypeVar("T")


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


async def with_upload(
    request: Request,
    fields: Sequence[str],
    handle: Callable[[dict[str, str], UploadFile | None], T],
) -> T:
    """Read the posted form's text ``fields`` and its ``file`` upload (None when none was
    chosen), then run ``handle`` on them in a worker thread, the upload still open: saving or
    reading a file blocks, and the form closes its spooled file once ``handle`` returns."""
    async with request.form() as form:
        values = {key: str(form.get(key, "")) for key in fields}
        chosen = form.get("file")
        upload = chosen if isinstance(chosen, UploadFile) else None
        return await run_in_threadpool(handle, values, upload)
