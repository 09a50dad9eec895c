"""Plane geometry of lines and zones on the frame, in pure Python (no OpenCV needed)."""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]


def side(a: Point, b: Point, p: Point) -> float:
    """Positive when `p` is left of the directed line a→b (in image axes: y down), negative
    right of it, 0 on it."""
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def segments_cross(a: Point, b: Point, p: Point, q: Point) -> bool:
    """Whether segment p→q crosses segment a→b (touching an end counts)."""
    d1, d2 = side(a, b, p), side(a, b, q)
    d3, d4 = side(p, q, a), side(p, q, b)
    return d1 * d2 <= 0 and d3 * d4 <= 0 and (d1 != 0 or d2 != 0)


def inside(polygon: Sequence[Point], p: Point) -> bool:
    """Whether `p` lies inside `polygon` (ray casting; points on an edge may go either way)."""
    x, y = p
    found = False
    previous = polygon[-1]
    for current in polygon:
        (x1, y1), (x2, y2) = previous, current
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            found = not found
        previous = current
    return found
