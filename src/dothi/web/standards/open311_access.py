"""Who may use Open311: anyone reads; an integration's key (with `reports:submit`) posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dothi.accounts.permissions import ANONYMOUS, Principal
from dothi.errors import Forbidden
from dothi.web.auth import guard, identify_caller, key_principal


@guard
async def open311_reader() -> None:
    """Open311 reads are public: they serve public reports only, without personal data."""


@guard
async def open311_submitter(request: Request) -> Principal:
    """The integration posting: its key in a header, else in the `api_key` form field.

    It needs `reports:submit`. Session cookies do not count: a form posted from another
    site must not act as the administrator whose browser sent it.
    """
    principal = ANONYMOUS
    if {"authorization", "x-api-key"} & set(request.headers.keys()):
        caller = await identify_caller(request)
        principal = caller.principal if caller.session is None else ANONYMOUS
    form_key = (await request.form()).get("api_key")
    if not principal.is_authenticated and isinstance(form_key, str) and form_key:
        principal = await key_principal(request, form_key) or ANONYMOUS
    if not principal.can("reports:submit"):
        raise Forbidden("A valid api_key of an integration allowed to submit reports is required.")
    return principal


Reader = [Depends(open311_reader)]
Submitter = Annotated[Principal, Depends(open311_submitter)]
