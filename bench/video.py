"""Video analytics on one core: decode-only frames/s of the shared clips (the limit) beside
the full pipeline's frames/s and how many cameras at 2 analysed frames/s one core carries.

- Decode only: PyAV, one decoder thread, every frame decoded, none converted.
- Pipeline: the same decode, then every 0.5 s of video a frame converted to 640×360 BGR,
  the motion gate, the detector where there is motion, the tracker and a counting line,
  as `dothi worker camera` runs it. Frames/s counts the clip's frames (all decoded) per
  second of CPU, so it compares with the limit directly; "analysed" counts the sampled ones.
- Cameras per core: seconds of video per second of CPU, for a camera like the clip
  (same resolution and frame rate); a 25 fps camera costs more decoding.
- ssdlite_people: CPU ms of one detection (a 640×360 frame squeezed to the model's 300×300),
  beside decoding, for a pipeline that would run it instead of the motion-blob detector.

Threads are pinned (OpenCV 1, PyAV 1, ONNX Runtime 1), and times are CPU times of this
process, so "per core" holds although the machine's two cores are shared. Clips: © Intel
Corporation, CC BY 4.0 (intel-iot-devkit/sample-videos), from ../shared/data/video/.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import av
import cv2

from dothi.detectors.configs import MotionConfig, SsdlitePeopleConfig, VehiclesConfig
from dothi.detectors.pipeline import Analyzer
from dothi.detectors.privacy import Redactor
from dothi.detectors.registry import build
from dothi.detectors.settings import AnalyticsSettings, Line
from dothi.detectors.video import sample

CLIPS = Path(__file__).parents[2] / "shared" / "data" / "video"
RUNS = 3
LINE = Line(name="count", a=(0.75, 0.0), b=(0.75, 1.0))
SETTINGS = {
    "car-detection.mp4": AnalyticsSettings(enabled=True, detector=VehiclesConfig(), lines=[LINE]),
    "one-by-one-person-detection.mp4": AnalyticsSettings(
        enabled=True, detector=MotionConfig(label="person", min_area=0.01), lines=[LINE]
    ),
}


def decode_only(path: Path) -> tuple[int, float, float]:
    """Frames, seconds of video, CPU seconds to decode them all."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        started = time.process_time()
        frames = sum(1 for _ in container.decode(stream))
        spent = time.process_time() - started
        base, length = stream.time_base, stream.duration
        duration = float(length * base) if length and base else 0.0
    return frames, duration, spent


def pipeline(path: Path, settings: AnalyticsSettings) -> tuple[float, int]:
    """CPU seconds for the clip through the pipeline; frames analysed."""
    analyzer = Analyzer(settings, redactor=lambda: Redactor([]))
    start = datetime.now(UTC)
    started = time.process_time()
    for item in sample(str(path), settings.fps, settings.width, settings.height):
        analyzer.process(item.frame, item.seconds, start)
    return time.process_time() - started, analyzer.frames


def ssdlite_ms(path: Path) -> float:
    """Median CPU milliseconds of one ssdlite_people detection on the clip's frames."""
    detector = build(SsdlitePeopleConfig())
    frames = [item.frame for item in sample(str(path), 0.2, 640, 360)]
    spent = []
    for frame in frames:
        started = time.process_time()
        detector.detect(frame)
        spent.append(time.process_time() - started)
    return 1000 * statistics.median(spent)


def main() -> int:
    cv2.setNumThreads(1)
    if not CLIPS.exists():
        print(f"no clips in {CLIPS}: skipped")
        return 0
    print(
        f"{'clip':<34}{'decode-only fps':>16}{'pipeline fps':>14}{'ratio':>7}"
        f"{'analysed fps':>14}{'cameras/core':>14}"
    )
    for name, settings in SETTINGS.items():
        path = CLIPS / name
        decoded = [decode_only(path) for _ in range(RUNS)]
        frames, duration = decoded[0][0], decoded[0][1]
        limit = frames / statistics.median(d[2] for d in decoded)
        runs = [pipeline(path, settings) for _ in range(RUNS)]
        spent = statistics.median(r[0] for r in runs)
        analysed = runs[0][1]
        fps = frames / spent
        print(
            f"{name:<34}{limit:>16,.0f}{fps:>14,.0f}{fps / limit:>7.0%}"
            f"{analysed / spent:>14,.0f}"
            f"{duration / spent:>14,.0f}"
        )
    print("target: pipeline ≥ 50 % of decode-only (motion gate on); 2 analysed frames/s a camera")
    people = CLIPS / "one-by-one-person-detection.mp4"
    frames, _duration, spent = decode_only(people)
    print(
        f"ssdlite_people: {ssdlite_ms(people):.0f} ms a detection (300×300, one thread), "
        f"beside {1000 * spent / frames:.1f} ms to decode a frame of {people.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
