"""The dashboard map with 5,000 sensors: frames per second while an operator drags the map,
next to the same drag with the sensor layer switched off (the limit, measured in the same
run), and the time from opening the page to a drawn map.

5,000 sensors spread over the demo district's 15 wards are stored through the ingest
pipeline in a temporary SQLite file; the app is served on the loopback as the browser tests
do and opened in Debian's Chromium (headless). Each drag is 40 mouse steps over 2 seconds;
the page counts its animation frames meanwhile. Target: the map stays smooth — at least
half the frame rate of the empty map — thanks to clustering and canvas drawing.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' live server, reused as it is

from tests.browser import chromium_path, live_server  # noqa: E402

from audit_write import machine  # noqa: E402 (a sibling script: bench/ is on the path)
from dothi.accounts.permissions import SYSTEM  # noqa: E402
from dothi.accounts.service import ensure_admin  # noqa: E402
from dothi.config import Settings  # noqa: E402
from dothi.core.clock import SystemClock  # noqa: E402
from dothi.core.events import EventBus  # noqa: E402
from dothi.db.engine import Database  # noqa: E402
from dothi.db.migrate import upgrade  # noqa: E402
from dothi.places.datasets import load_bundled  # noqa: E402
from dothi.places.service import wards_under  # noqa: E402
from dothi.telemetry.messages import Incoming  # noqa: E402
from dothi.telemetry.pipeline import Pipeline  # noqa: E402
from dothi.web.app import create_app  # noqa: E402

SENSORS = 5_000
DRAG_STEPS = 40
DRAG_SECONDS = 2.0
PROVISIONER = replace(SYSTEM, username="bench", provision=True)
COUNT_FRAMES = """() => new Promise(done => {
  let frames = 0; const start = performance.now();
  function tick(now) { frames += 1; if (now - start < %d) requestAnimationFrame(tick);
                       else done(frames * 1000 / (now - start)); }
  requestAnimationFrame(tick);
})"""


def fill(database: Database) -> str:
    """The district, 5,000 streetlights placed at random in its wards; the admin's password."""
    clock = SystemClock()
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
        password = ensure_admin(session)
        day = clock.now().date()
        wards = [shape(unit.boundary) for unit in wards_under(session, "768", day) if unit.boundary]
    assert password is not None
    rng = random.Random(1)
    now = datetime.now(UTC)
    messages = []
    for number in range(SENSORS):
        area = wards[number % len(wards)]
        west, south, east, north = area.bounds
        while not area.contains(point := Point(rng.uniform(west, east), rng.uniform(south, north))):
            pass
        document = {
            "powerState": {"value": "on", "observedAt": now.isoformat()},
            "location": {"type": "Point", "coordinates": [point.x, point.y]},
        }
        entity = f"urn:ngsi-ld:Streetlight:bench-{number:05d}"
        messages.append(Incoming("bench", entity, json.dumps(document).encode(), now, PROVISIONER))
    pipeline = Pipeline(database, EventBus(), clock, "Asia/Ho_Chi_Minh")
    for first in range(0, SENSORS, 1000):
        pipeline.ingest(messages[first : first + 1000])
    return password


def drag_fps(page: Page) -> float:
    """Frames per second while the map is dragged from left to right."""
    box = page.locator("#dash-map").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5
    counting = page.evaluate_handle(COUNT_FRAMES % int(DRAG_SECONDS * 1000))
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(DRAG_STEPS):
        page.mouse.move(x + (step + 1) * 6, y + (step % 2))
        time.sleep(DRAG_SECONDS / DRAG_STEPS)
    page.mouse.up()
    fps: float = counting.json_value()
    return fps


def main() -> None:
    print(f"machine: {machine()}; the browser, the server and the bench share the CPUs")
    folder = Path(tempfile.mkdtemp(prefix="dothi-map-"))
    url = f"sqlite:///{folder / 'map.sqlite3'}"
    database = Database(url)
    upgrade(database.engine)
    password = fill(database)
    settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(), map_tiles_url="")
    with live_server(create_app(settings, database=database)) as base, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium_path())
        page = browser.new_page(viewport={"width": 1600, "height": 900}, base_url=base)
        page.goto("/login")
        page.fill("input[name='username']", "admin")
        page.fill("input[name='password']", password)
        page.click("button[type='submit']")
        page.wait_for_url("**/dashboard")
        started = time.perf_counter()
        page.goto("/dashboard")
        page.wait_for_selector("#dash-map[data-ready='true']", timeout=120_000)
        ready = time.perf_counter() - started
        shown = page.locator("#sensor-types output").first.inner_text()
        with_markers = drag_fps(page)
        for switch in page.locator("#sensor-types input").all():
            switch.uncheck()
        without = drag_fps(page)
        browser.close()
    database.dispose()
    print(f"sensors on the map: {shown.strip('()')} (clustered, drawn on a canvas)")
    print(f"page opened to map drawn:  {ready * 1000:,.0f} ms")
    print(
        f"dragging with the sensors: {with_markers:5.1f} frames/s "
        f"({with_markers / without:.0%} of the empty map's {without:.1f}; target 50 %)"
    )


if __name__ == "__main__":
    main()
