"""/api/v1/search: wards, streets, entities and report codes of the caller's area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dothi.kpis.schemas import SearchResults
from dothi.kpis.search import MAX_QUERY, search
from dothi.web.api.dashboard import GUARD, View

router = APIRouter(prefix="/api/v1", tags=["dashboard"], dependencies=[GUARD])


@router.get("/search")
def get_search(
    view: View,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResults:
    """Matches of `q`, regardless of case and Vietnamese diacritics ("phuong 7" finds
    "Phường 7"): wards, streets (OpenStreetMap), entities by id or name, and public
    reports by their exact tracking code."""
    return SearchResults(results=search(view.session, view.area, q, limit, view.now))
