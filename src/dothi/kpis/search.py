"""Search of the dashboard: wards, streets, entities and report codes of the caller's area.

Matching ignores case and Vietnamese diacritics ("phuong 7" finds "Phường 7"): names are
folded (`core.text.fold`) and every word of the query must start a word of the name.
Names that start with the query come first. Reports are found by their exact tracking
code only, and only public ones: nothing else of a report is searched, so nothing
personal can match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.orm import Session

from dothi.core.text import fold
from dothi.kpis.area import Area
from dothi.kpis.schemas import SearchResult
from dothi.places.datasets import streets
from dothi.reports.stats import report_points
from dothi.telemetry.facts import entities_of_type, entity_names

_WORD = re.compile(r"[\s:,]+")  # ids split at their colons: "pn-aq-27058" finds the station
MAX_QUERY = 100
CODE_LENGTH = 10  # "PA" and 8 characters


def _score(words: list[str], folded: str) -> int | None:
    """0 for a name starting with the query, 1 for one with a word starting with each word
    of the query, None otherwise ("9" finds "Phường 9", not "Phường 19")."""
    held = _WORD.split(folded)
    if not all(any(part.startswith(word) for part in held) for word in words):
        return None
    return 0 if folded.startswith(" ".join(words)) else 1


def search(
    session: Session, area: Area, text: str, limit: int, now: datetime
) -> list[SearchResult]:
    """The best `limit` matches of `text`: wards, then streets, entities and reports."""
    words = fold(text).split()
    if not words:
        return []
    found: list[tuple[int, int, str, SearchResult]] = []
    for rank, results in enumerate((_wards(area), _streets(area), _entities(session, area))):
        for key, result in results:
            score = _score(words, key)
            if score is not None:
                found.append((score, rank, result.label, result))
    found.sort(key=lambda item: item[:3])
    reports = list(_reports(session, area, text, now))
    return (reports + [result for *_, result in found])[:limit]


Candidates = Iterable[tuple[str, SearchResult]]


def _wards(area: Area) -> Candidates:
    for ward in area.wards:
        result = SearchResult(
            kind="ward",
            label=ward.name,
            detail=ward.code,
            url=f"/dashboard?ward={quote(ward.code)}",
            lon=None,
            lat=None,
        )
        yield f"{fold(ward.name)} {ward.code}", result


def _streets(area: Area) -> Candidates:
    names = {ward.code: ward.name for ward in area.wards}
    for street in streets():
        crossed = [names[code] for code in street.wards if code in names]
        if crossed or not street.wards:
            result = SearchResult(
                kind="street",
                label=street.name,
                detail=", ".join(crossed),
                url=f"/dashboard?lon={street.lon}&lat={street.lat}",
                lon=street.lon,
                lat=street.lat,
            )
            yield street.folded, result


def _entities(session: Session, area: Area) -> Candidates:
    found = entities_of_type(session, None, area.ids)
    names = entity_names(session, [e.id for e in found])
    for entity in found:
        name = names.get(entity.id, entity.id)
        result = SearchResult(
            kind="entity",
            label=name,
            detail=f"{entity.type} · {entity.id}",
            url=f"/entities/{quote(entity.id, safe='')}",
            lon=entity.lon,
            lat=entity.lat,
        )
        yield f"{fold(name)} {fold(entity.id)}", result


def _reports(session: Session, area: Area, text: str, now: datetime) -> Iterator[SearchResult]:
    code = text.strip().upper()
    if len(code) != CODE_LENGTH or not code.isalnum():
        return
    for report in report_points(session, area.ids, now, code=code):
        yield SearchResult(
            kind="report",
            label=report.code,
            detail=f"{report.category_name} · {report.state_label}",
            url=f"/reports/{quote(report.code)}",
            lon=report.lon,
            lat=report.lat,
        )
