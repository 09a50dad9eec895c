"""Open311 GeoReport v2 on the wire: JSON or XML by the path's suffix, and its error lists.

The XML follows the element names of the GeoReport v2 text: a root (`services`,
`service_requests`, `errors`…) holding one element per item (`service`, `request`,
`error`…); lists inside an item repeat their singular (`attributes/attribute`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from xml.etree import ElementTree as ET

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from dothi.core.clock import as_utc
from dothi.web.errors import Problem
from dothi.web.templating import gettext

Format = Literal["json", "xml"]
XML_TYPE = "text/xml"

SINGULAR = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "keywords": "keyword",
}
"""The element of each item of a list inside an item."""

# Open311 knows 400 (bad request), 403 (bad key) and 404; the other refusals map onto them.
_STATUS = {401: 403, 409: 400, 422: 400}


NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry: replaced, or the document would not parse."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(element, str(key), inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _fill(element, SINGULAR.get(name, "item"), inner)
    elif value is not None:
        element.text = _text(value)


def xml_document(root: str, item: str | None, content: Any) -> bytes:
    """`content` (a list of items, or one mapping when `item` is None) as an XML document."""
    top = ET.Element(root)
    if item is None:
        for key, value in content.items():
            _fill(top, key, value)
    else:
        for value in content:
            _fill(top, item, value)
    return bytes(ET.tostring(top, encoding="utf-8", xml_declaration=True))


def _plain(content: Any) -> Any:
    if isinstance(content, BaseModel):
        return content.model_dump(mode="json")
    if isinstance(content, Sequence) and not isinstance(content, str):
        return [_plain(item) for item in content]
    return content


def answer(
    fmt: Format, root: str, item: str | None, content: Any, status_code: int = 200
) -> Response:
    """The answer in the format asked for; models become plain JSON first."""
    plain = _plain(content)
    if fmt == "xml":
        body = xml_document(root, item, plain)
        return Response(body, status_code=status_code, media_type=XML_TYPE)
    return JSONResponse(plain, status_code=status_code)


def render_error(request: Request, problem: Problem) -> Response:
    """An Open311 error list `[{code, description}]`, in XML for `.xml` paths, in the
    deployment's language (`?lang=en` for English)."""
    status = _STATUS.get(problem.status, problem.status)
    if problem.errors:
        errors = [
            {"code": status, "description": f"{e['field']}: {e['message']}"} for e in problem.errors
        ]
    else:
        errors = [{"code": status, "description": gettext(request, problem.detail)}]
    fmt: Format = "xml" if request.url.path.endswith(".xml") else "json"
    return answer(fmt, "errors", "error", errors, status_code=status)
