"""Translations: gettext catalogues (.po, read with Babel), Vietnamese first.

Message ids are English; a locale without a translation falls back to the id.
The .po files are read directly, so there is no compile step to forget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("vi", "en")


@dataclass(frozen=True)
class Translations:
    """The messages of one locale."""

    locale: str
    messages: dict[str, str] = field(default_factory=dict)

    def gettext(self, message: str, **variables: object) -> str:
        """The translation, with `%(name)s` placeholders filled from `variables`."""
        text = self.messages.get(message) or message
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: object) -> str:
        return self.gettext(singular if n == 1 else plural, n=n, **variables)


def load_catalogues(directory: Path, locales: Iterable[str] = LOCALES) -> dict[str, Translations]:
    """Read every `<directory>/<locale>/LC_MESSAGES/*.po` of every locale.

    A domain may keep its messages in a file of its own (`reports.po`); the
    files of a locale are merged into one catalogue.
    """
    catalogues = {}
    for locale in locales:
        messages: dict[str, str] = {}
        for po_file in sorted((directory / locale / "LC_MESSAGES").glob("*.po")):
            messages.update(_read_messages(po_file, locale))
        catalogues[locale] = Translations(locale, messages)
    return catalogues


def _read_messages(po_file: Path, locale: str) -> dict[str, str]:
    """The translated, non-fuzzy messages of one .po file."""
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.string, str) and message.string and not message.fuzzy
    }


def negotiate(requested: str | None, default: str) -> str:
    """The locale to use: the requested one if we have it, else the default."""
    if requested:
        tag = requested.strip().lower().replace("_", "-").split("-")[0]
        if tag in LOCALES:
            return tag
    return default
