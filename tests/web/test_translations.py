"""Vietnamese first: every string a template translates is in the Vietnamese catalogue, so a
page never shows an English word by accident."""

from __future__ import annotations

import re

from dothi.core.i18n import load_catalogues
from dothi.web.templating import HERE

MESSAGE = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
"""`_("…")` or `_('…')` in a template: the message id."""


def test_every_template_string_is_in_the_vietnamese_catalogue() -> None:
    vietnamese = load_catalogues(HERE / "locale")["vi"].messages
    templates = sorted((HERE / "templates").glob("*.html"))
    assert len(templates) > 30
    missing = sorted(
        f"{template.name}: {a or b}"
        for template in templates
        for a, b in MESSAGE.findall(template.read_text(encoding="utf-8"))
        if not vietnamese.get(a or b)
    )
    assert not missing, missing
