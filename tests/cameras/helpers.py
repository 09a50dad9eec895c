"""A camera's snapshot endpoint on the loopback: a street scene with a face in it."""

from __future__ import annotations

import threading
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy

FACE = Path(__file__).parents[1] / "detectors" / "data" / "astronaut-face.jpg"
USER, PASSWORD = "viewer", "pw"


class _Camera(BaseHTTPRequestHandler):
    """Answers every GET with the scene, behind Basic auth."""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Basic " + b64encode(b"viewer:pw").decode():
            self.send_response(401)
            self.end_headers()
            return
        portrait = cv2.imread(str(FACE))
        assert portrait is not None
        scene = numpy.full((360, 640, 3), 120, numpy.uint8)
        scene[60:300, 200:440] = portrait
        body = cv2.imencode(".jpg", scene)[1].tobytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


@contextmanager
def snapshot_server() -> Iterator[str]:
    """The URL of a camera's snapshot while it serves (credentials USER, PASSWORD)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Camera)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/snapshot.jpg"
    finally:
        server.shutdown()
