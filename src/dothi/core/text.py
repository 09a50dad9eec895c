"""Text helpers for Vietnamese: search that ignores diacritics and case."""

from __future__ import annotations

import unicodedata

# đ/Đ are letters of their own, not a d with a combining mark: NFD leaves them alone.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse spaces: "Phường  7" -> "phuong 7"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())
