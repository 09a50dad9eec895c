"""Jinja2 pages in the user's language (Vietnamese unless asked otherwise)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dothi.core.clock import as_utc
from dothi.core.i18n import Translations, load_catalogues, negotiate

HERE = Path(__file__).parent
LANG_COOKIE = "dothi_lang"


class Templates:
    """The template environment and translation catalogues of one app."""

    def __init__(self, default_locale: str, timezone: str) -> None:
        self.default_locale = default_locale
        self.zone = ZoneInfo(timezone)
        self.catalogues = load_catalogues(HERE / "locale")
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html", "xml"]),
            extensions=["jinja2.ext.i18n"],
            auto_reload=False,
        )
        self.env.filters["localtime"] = self.localtime

    def localtime(self, moment: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
        """A UTC moment as the deployment's local time (Asia/Ho_Chi_Minh by default)."""
        return "" if moment is None else as_utc(moment).astimezone(self.zone).strftime(fmt)

    def locale_of(self, request: Request) -> str:
        """`?lang=` wins, then the language cookie, then the deployment's default."""
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return negotiate(asked, self.default_locale)

    def translations(self, request: Request) -> Translations:
        return self.catalogues[self.locale_of(request)]

    def render(
        self, request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        """Render a page; the chosen language sticks in a cookie when asked for by `?lang=`."""
        translations = self.translations(request)
        template = self.env.get_template(name)
        html = template.render(
            request=request,
            lang=translations.locale,
            _=translations.gettext,
            gettext=translations.gettext,
            ngettext=translations.ngettext,
            lang_url=lambda code: str(request.url.include_query_params(lang=code)),
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        if "lang" in request.query_params:
            response.set_cookie(
                LANG_COOKIE, translations.locale, max_age=365 * 86400, samesite="lax"
            )
        return response


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render `name` with the app's templates."""
    templates: Templates = request.app.state.templates
    return templates.render(request, name, context, status_code)


def gettext(request: Request, message: str) -> str:
    """Translate a message for this request (for strings built outside templates)."""
    templates: Templates = request.app.state.templates
    return templates.translations(request).gettext(message)
