"""Run by `.venv-clients/bin/python` (ngsildclient 0.5.2, unchanged) against a dothi server.

Arguments: host port api-key longitude latitude. Prints one line per step for the test to check.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from ngsildclient import Client, Entity  # type: ignore[import-not-found]
from ngsildclient.api.constants import AggrMethod  # type: ignore[import-not-found]
from requests import PreparedRequest
from requests.auth import AuthBase


class ApiKey(AuthBase):
    """dothi's integration key, sent with every request."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["X-API-Key"] = self.secret
        return request


def station(number: int, pm25: float, at: datetime, point: tuple[float, float]) -> Any:
    entity = Entity("AirQualityObserved", f"pn-{number}")
    entity.prop("pm25", pm25, unitcode="GQ", observedat=at)
    entity.prop("name", f"Station {number}")
    entity.gprop("location", (point[1], point[0]))  # ngsildclient takes (lat, lon)
    return entity


def report(*parts: object) -> None:
    """One line for the test, marked apart from ngsildclient's own console messages."""
    print(">", *parts)


def main() -> None:
    host, port, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    point = (float(sys.argv[4]), float(sys.argv[5]))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    earlier, later = now - timedelta(minutes=40), now - timedelta(minutes=10)
    with Client(hostname=host, port=port, custom_auth=ApiKey(secret), verbose=False) as client:
        result = client.create([station(n, 10.0 + n, earlier, point) for n in range(3)])
        report("created", result.n_ok, result.n_err)
        report("single", client.create(station(9, 5.0, earlier, point)))
        result = client.upsert([station(n, 20.0 + n, later, point) for n in range(4)])
        report("upserted", result.n_ok, result.n_err)
        found = client.query(type="AirQualityObserved")
        report("queried", " ".join(sorted(entity.id for entity in found)))
        report("count", client.count(type="AirQualityObserved", q="pm25>20"))
        entity = client.get("urn:ngsi-ld:AirQualityObserved:pn-1", asdict=True)
        report("latest", entity["pm25"]["value"])
        history = client.temporal.get("urn:ngsi-ld:AirQualityObserved:pn-1", attrs=["pm25"])
        report("history", json.dumps([value for value, _ in history["pm25"]["values"]]))
        troes = client.temporal.query(type="AirQualityObserved", attrs=["pm25"])
        report("temporal", len(troes))
        aggregated = client.temporal.aggregate(
            type="AirQualityObserved", attrs=["pm25"], methods=[AggrMethod.MAXIMUM]
        ).result
        report("max", json.dumps(sorted(troe["pm25"]["max"][0][0] for troe in aggregated)))
        result = client.delete([station(9, 0, now, point)])
        report("deleted", result.n_ok, result.n_err)


if __name__ == "__main__":
    main()
