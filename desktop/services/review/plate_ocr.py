"""Reading a licence plate from a photo, offline: find the plate, then recognise only its text line.

Region finding (OpenCV, ~10 ms a photo): the photo is scaled to 640 px, contrast-equalised (CLAHE, for
night shots and glare), and its edges give closed shapes; a shape is a plate candidate when it is
rectangle-like, 1.3 to 6.5 times as wide as high (US plates are 2:1, UK plates 4.7:1) and holds 3 to 10
components of one height in a row, dark on light or light on dark (California's legacy black plates,
Delaware's navy ones), under Otsu's threshold or a local one (a glare over part of the plate): the
characters. The row's box across the whole plate, straightened by the slope of the characters' centres, is
cut from the full-size photo (a light-on-dark row is inverted). When the outlines give no confident plate,
a second pass finds plates by their row of character strokes alone (black-hat / top-hat, joined along the
row): a plate whose outline is lost in glare or against a car body of its own brightness.

Recognition: the PP-OCRv4 recogniser of ``rapidocr-onnxruntime`` (its ONNX model ships inside the wheel:
nothing is downloaded, ever) runs on those few crops only, never on the whole photo (which costs ~0.5 s
reading every timestamp and sign): first on the widest outline around the likeliest plate and on any
candidate elsewhere in the photo (a second plate), on the plate's other outlines only when that reads no
confident plate. Its per-step probabilities are decoded here with only the plate alphabet allowed
(``_ctc_decode``; separators kept, so a "14:05" is seen as a time), and the typed state's plate formats
settle a letter the recogniser found as likely as a digit (``plate_reading.best_for_formats``). The best
plate-like line is chosen by ``desktop.domain.plate_reading.choose``.

Unavailable: the package missing, or its model file missing or not the file the wheel installed (its
SHA-256 is checked against the wheel's RECORD), makes ``engine_status()`` say why; nothing else breaks.

# Deferred imports: cv2, numpy and onnxruntime cost 0.6 s at start-up; only a reading needs them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from desktop.domain import plate_reading
from desktop.domain.plate_reading import PhotoReading, ReadStatus, TextLine

log = logging.getLogger(__name__)

DISTRIBUTION = "rapidocr-onnxruntime"
REC_MODEL = "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"
WORK_WIDTH = 640
MAX_CANDIDATES = 4
CONFIDENT = 0.9
"""A first candidate read at least this well is the photo's plate without reading the rest of its outline."""


@dataclass(frozen=True)
class EngineStatus:
    available: bool
    version: str
    """``rapidocr-onnxruntime 1.4.4 PP-OCRv4-rec plates-3``: stored with every reading."""
    reason: str = ""
    model_path: Path | None = None


def _record_digest(dist: metadata.Distribution, relative: str) -> str | None:
    for f in dist.files or ():
        if str(f) == relative and f.hash is not None:
            return f.hash.value
    return None


@lru_cache(maxsize=1)
def engine_status() -> EngineStatus:
    """Whether the plate reader can run here, and which version it is (checked once per process)."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return EngineStatus(False, "", f"the OCR package {DISTRIBUTION} is not installed")
    version = f"{DISTRIBUTION} {dist.version} PP-OCRv4-rec {plate_reading.READER_VERSION}"
    return check_model(Path(str(dist.locate_file(REC_MODEL))), _record_digest(dist, REC_MODEL), version)


def check_model(path: Path, recorded: str | None, version: str) -> EngineStatus:
    """The model file is there and is the file its wheel installed (``recorded``: urlsafe base64 SHA-256)."""
    if not path.is_file():
        return EngineStatus(False, version, f"the plate model file is missing ({path.name})")
    if recorded is not None:
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
        if digest != recorded:
            return EngineStatus(False, version, f"the plate model file is damaged ({path.name} does not match "
                                                "its installed digest); reinstall Curbdesk")
    return EngineStatus(True, version, "", path)


class ReaderUnavailable(Exception):
    """The plate reader cannot run on this installation (the message says why)."""


class PlateReader:
    """Finds and reads plates. One per process (the model loads in ~0.1 s); safe to share between threads."""

    def __init__(self, status: EngineStatus | None = None, threads: int = 1) -> None:
        self.status = status or engine_status()
        if not self.status.available or self.status.model_path is None:
            raise ReaderUnavailable(self.status.reason)
        try:
            from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer  # lazy: onnxruntime, 0.6 s (see top)

            self._rec = TextRecognizer({
                "model_path": str(self.status.model_path), "use_cuda": False, "use_dml": False,
                "intra_op_num_threads": threads, "inter_op_num_threads": 1,
                # 48 px high as the model was trained; lines are padded to at least 4:1, not PP-OCR's 320 px
                # for long lines (a plate's row is 4-6:1): a quarter less work a crop
                "rec_img_shape": [3, 48, 192], "rec_batch_num": 6,
            })
        except Exception as exc:  # noqa: BLE001 - a damaged model or runtime: the check is unavailable
            raise ReaderUnavailable(f"the plate model cannot be loaded: {exc}") from exc
        self._lock = threading.Lock()
        self._columns: tuple[Any, Any, Any] | None = None
        self.version = self.status.version

    def read_bytes(self, data: bytes, jurisdiction: str | None = None) -> PhotoReading:
        """One photo's reading (a photo that does not decode is SKIPPED with the reason); ``jurisdiction``, the
        typed state, chooses between look-alike letters and digits by that state's plate formats."""
        import cv2  # lazy: 0.3 s (see top)
        import numpy as np  # lazy: 0.3 s (see top)

        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return PhotoReading(ReadStatus.SKIPPED, reason="the photo cannot be decoded")
        return self.read_image(image, jurisdiction)

    def read_image(self, bgr: Any, jurisdiction: str | None = None) -> PhotoReading:
        prepared = prepare(bgr)
        reading = self._read(find_plate_lines(prepared), jurisdiction)
        if reading.status is not ReadStatus.READ or (reading.confidence or 0.0) < CONFIDENT:
            by_rows = self._read(find_plate_lines(prepared, by_rows=True), jurisdiction)
            if by_rows.status is ReadStatus.READ and (reading.status is not ReadStatus.READ
                                                      or (by_rows.confidence or 0.0) > (reading.confidence or 0.0)):
                return by_rows
        return reading

    def _read(self, crops: list[LineCrop], jurisdiction: str | None) -> PhotoReading:
        if not crops:
            return PhotoReading(ReadStatus.NOT_READABLE, reason="no plate found in the photo")
        # the likeliest plate first, with every candidate elsewhere in the photo (a second plate); the other
        # candidates inside the same plate (its state name, a nested outline) only when the first is no
        # confident plate: recognition is most of the time a photo takes
        same = [i for i in range(len(crops)) if _overlap(crops[i].region, crops[0].region)]
        # of the outlines around the likeliest plate, the widest: an inner one reads only part of the plate
        primary = max(same, key=lambda i: (crops[i].region[2] - crops[i].region[0], -i))
        first = [primary] + [i for i in range(len(crops)) if i not in same]
        lines = self._lines(crops, first, jurisdiction)
        reading = plate_reading.choose(lines.values())
        sign = lines[primary].confidence >= CONFIDENT and not any(ch.isdigit() for ch in lines[primary].text)
        if (reading.status is not ReadStatus.READ or (reading.confidence or 0.0) < CONFIDENT) and not sign:
            # (a sign read clearly, "NO PARKING", is no plate: the outlines inside it read parts of it)
            rest = [i for i in range(len(crops)) if i not in lines]
            if rest:
                lines |= self._lines(crops, rest, jurisdiction)
                reading = plate_reading.choose(lines[i] for i in sorted(lines))
        return reading

    def _lines(self, crops: list[LineCrop], which: list[int], jurisdiction: str | None) -> dict[int, TextLine]:
        out = {}
        for i, (chars, raw) in zip(which, self.recognise([crops[i].image for i in which]), strict=True):
            text, confidence = plate_reading.best_for_formats(chars, jurisdiction)
            out[i] = TextLine(plate_reading.with_separators(raw, text), confidence, crops[i].box, crops[i].height)
        return out

    def recognise(self, images: list[Any]) -> list[tuple[list[plate_reading.CharChoice], str]]:
        """Each line image's characters, decoded from the recogniser's per-step probabilities with only the
        plate alphabet allowed (a lower-case letter counts as its capital; any other symbol is a separator)."""
        import numpy as np  # lazy: 0.3 s (see top)

        imgc, imgh, imgw = self._rec.rec_image_shape
        ratio = max([imgw / imgh] + [i.shape[1] / max(1, i.shape[0]) for i in images])
        batch = np.concatenate([self._rec.resize_norm_img(i, ratio)[np.newaxis, :] for i in images]).astype(np.float32)
        with self._lock:  # one inference at a time per session: the two cores are shared
            preds = self._rec.session(batch)[0]
        return [_ctc_decode(p, *self._alphabet(), self._rec.postprocess_op.character) for p in preds]

    def _alphabet(self) -> tuple[Any, Any, Any]:
        if self._columns is None:
            import numpy as np  # lazy: 0.3 s (see top)

            chars = self._rec.postprocess_op.character
            index = {c: i for i, c in enumerate(chars)}
            upper = np.array([index.get(c, 0) for c in plate_reading.ALPHABET])
            lower = np.array([index.get(c.lower(), 0) if c.isalpha() else 0 for c in plate_reading.ALPHABET])
            other = np.ones(len(chars), dtype=bool)
            other[0] = False
            other[upper] = False
            other[lower] = False
            self._columns = (upper, lower, other)
        return self._columns


def _ctc_decode(probs: Any, upper: Any, lower: Any, other: Any,
                symbols: Sequence[str]) -> tuple[list[plate_reading.CharChoice], str]:
    """Greedy CTC decoding over blank, the 36 plate characters and "anything else" (a separator): each
    character with its probability and the best letter and best digit at its strongest step; and the line as
    read with its separators, ``\\x00`` standing for each plate character (a "14:05" is then seen as a time)."""
    import numpy as np  # lazy: 0.3 s (see top)

    alnum = probs[:, upper] + np.where(lower > 0, probs[:, lower], 0.0)
    blank = probs[:, 0]
    rest_all = np.where(other, probs, 0.0)
    rest_i = rest_all.argmax(axis=1)
    rest = rest_all[np.arange(len(rest_i)), rest_i]
    best = alnum.argmax(axis=1)
    best_p = alnum[np.arange(len(best)), best]
    out: list[plate_reading.CharChoice] = []
    raw: list[str] = []
    previous = -1
    run_best = -1.0
    for t in range(probs.shape[0]):
        if best_p[t] >= blank[t] and best_p[t] >= rest[t]:
            label = int(best[t])
            if label != previous:
                out.append(plate_reading.CharChoice.of(alnum[t]))
                raw.append("\x00")
                run_best = float(best_p[t])
            elif best_p[t] > run_best:  # the same character over several steps: keep its strongest step
                out[-1] = plate_reading.CharChoice.of(alnum[t])
                run_best = float(best_p[t])
            previous = label
        elif rest[t] > blank[t]:
            label = -2 - int(rest_i[t])
            if label != previous:
                raw.append(symbols[int(rest_i[t])])
            previous = label
        else:
            previous = -1
    return out, "".join(raw)


@dataclass
class LineCrop:
    image: Any
    box: tuple[int, int, int, int]
    height: int
    score: float
    region: tuple[int, int, int, int] = (0, 0, 0, 0)
    """The candidate plate's outline box in the full-size photo."""


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _characters(patch: Any, strict: bool = False) -> tuple[list[tuple[int, int, int, int]], bool]:
    """The character-like components of a candidate plate: one row of similar heights (x, y, w, h), and
    whether they are light characters on a dark plate. ``strict`` (a region found without an outline): at
    least 4, most of them clearly taller than wide (a row of windows or tiles is squares)."""
    import cv2  # lazy: 0.3 s (see top)

    ph, pw = patch.shape[:2]
    best: list[tuple[int, int, int, int]] = []
    best_light = False
    _t, dark = cv2.threshold(patch, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    # dark characters on a light plate, then light characters on a dark plate (California's legacy black
    # plates, Delaware's navy ones); a camera's light time stamp has no plate edge around it, and a date or
    # time read anyway is never a plate (plate_reading.choose)
    masks = [(False, dark), (True, cv2.bitwise_not(dark))]
    if ph >= 12:  # a local threshold as well: a glare over part of the plate defeats one threshold for all
        block = max(11, ph // 2) | 1
        masks += [(False, cv2.adaptiveThreshold(patch, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                                block, 8)),
                  (True, cv2.adaptiveThreshold(patch, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY,
                                               block, -8))]
    for light, mask in masks:
        count, _labels, stats, _c = cv2.connectedComponentsWithStats(mask, connectivity=8)
        comps = []
        for i in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[i])
            if not (0.18 * ph <= h <= 0.95 * ph) or w > 0.3 * pw or h < 6:
                continue
            if h < w * 0.9 or h > w * 15 or area < 0.12 * w * h or x == 0 or x + w >= pw:
                continue
            comps.append((x, y, w, h))
        if len(comps) < 3:
            continue
        row = _row(comps)
        if light and (max(c[3] for c in row) > 0.65 * ph or len(row) < 4
                      or max(c[0] + c[2] for c in row) - min(c[0] for c in row) < 0.45 * pw):
            # light characters must sit on a plate larger than their row (a time stamp's outline hugs it)
            continue
        if strict and (len(row) < 4 or sorted(c[3] / c[2] for c in row)[len(row) // 2] < 1.25):
            continue
        if len(row) > len(best):
            best, best_light = row, light
    return (best, best_light) if 3 <= len(best) <= 10 else ([], False)


def _row(comps: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The most characters of one height on one line (a character merged with a blob of dirt, or a state
    name above, does not decide the height); the taller row wins a tie."""
    best: list[tuple[int, int, int, int]] = []
    best_h = 0
    for _x, ry, _w, rh in comps:
        centre = ry + rh / 2
        row = [c for c in comps if 0.75 * rh <= c[3] <= 1.3 * rh and abs(c[1] + c[3] / 2 - centre) <= 0.35 * rh]
        if (len(row), rh) > (len(best), best_h):
            best, best_h = row, rh
    return best


@dataclass
class Prepared:
    """A photo scaled to the working size and contrast-equalised (CLAHE: night shots, glare)."""

    bgr: Any
    scale: float
    gray: Any


def prepare(bgr: Any) -> Prepared:
    import cv2  # lazy: 0.3 s (see top)

    h, w = bgr.shape[:2]
    scale = min(1.0, WORK_WIDTH / max(w, h))
    small = cv2.resize(bgr, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else bgr
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return Prepared(bgr, scale, cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray))


def find_plate_lines(photo: Any, *, by_rows: bool = False) -> list[LineCrop]:
    """The text lines of the likeliest plates in a photo (a BGR image or ``Prepared``), cut from the full-size
    image, best first: plates found by their outline, or with ``by_rows`` by their row of characters alone
    (a plate whose outline is lost: glare over its edge, a car body of its brightness, a bumper line across
    it; slower, and only tried when the outlines give no confident plate)."""
    import cv2  # lazy: 0.3 s (see top)
    import numpy as np  # lazy: 0.3 s (see top)

    prepared = photo if isinstance(photo, Prepared) else prepare(photo)
    bgr, scale, gray = prepared.bgr, prepared.scale, prepared.gray
    contours: Sequence[Any] = ()
    if not by_rows:
        edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 50, 150)
        edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
        contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    sh, sw = gray.shape[:2]
    area_all = sh * sw
    found: list[tuple[float, tuple[int, int, int, int], list[tuple[int, int, int, int]], bool]] = []
    seen: list[tuple[int, int, int, int]] = []
    boxes: list[tuple[int, int, int, int]] = []
    for contour in ([] if by_rows else contours):
        x, y, bw, bh = cv2.boundingRect(contour)
        if bh < 12 or bw < 30 or not (1.3 <= bw / bh <= 6.5) or not (0.002 * area_all <= bw * bh <= 0.3 * area_all):
            continue
        if cv2.contourArea(cv2.convexHull(contour)) < 0.6 * bw * bh:
            continue
        boxes.append((x, y, x + bw, y + bh))
    if by_rows:
        boxes = _text_rows(gray)
    for x, y, x1, y1 in boxes:
        box = (x, y, x1, y1)
        if any(_same(box, other) for other in seen):
            continue
        chars, light = _characters(gray[y:y1, x:x1], strict=by_rows)
        if not chars:
            continue
        seen.append(box)
        char_h = sorted(c[3] for c in chars)[len(chars) // 2]
        # the plate's number is the tallest row of characters on it; 5-8 of them is a plate's usual length
        found.append((char_h * (1.0 if 4 <= len(chars) <= 9 else 0.5), box, chars, light))
    found.sort(key=lambda f: -f[0])
    out: list[LineCrop] = []
    for score, (x, y, x1, y1), chars, light in found[:MAX_CANDIDATES]:
        crop = _cut_line(bgr, scale, x, y, x1, chars, score, light)
        crop.region = (int(x / scale), int(y / scale), int(x1 / scale), int(y1 / scale))
        out.append(crop)
    return out


def _text_rows(gray: Any) -> list[tuple[int, int, int, int]]:
    """Regions around rows of character strokes, dark on light (black-hat) or light on dark (top-hat),
    found without any outline: the strokes are joined along the row and the row's box is widened to the
    plate it would sit on."""
    import cv2  # lazy: 0.3 s (see top)
    import numpy as np  # lazy: 0.3 s (see top)

    sh, sw = gray.shape[:2]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (13, 13))
    join = cv2.getStructuringElement(cv2.MORPH_RECT, (17, 3))  # a space between groups (IL "LY 96527") too
    out: list[tuple[int, int, int, int]] = []
    for op in (cv2.MORPH_BLACKHAT, cv2.MORPH_TOPHAT):
        strokes = cv2.morphologyEx(gray, op, kernel)
        _t, mask = cv2.threshold(strokes, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, join)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        pieces: list[tuple[int, int, int, int]] = []
        for contour in contours:
            px, py, pw, ph = cv2.boundingRect(contour)
            if 8 <= ph <= 60:
                pieces.append((px, py, pw, ph))
        for x, y, w, h in _join_pieces(pieces):
            if not (10 <= h <= 60) or not (2.0 <= w / h <= 12) or w < 40:
                continue
            px, py = int(w * 0.1) + 2, int(h * 0.8)
            out.append((max(0, x - px), max(0, y - py), min(sw, x + w + px), min(sh, y + h + py)))
    return out


def _join_pieces(pieces: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Pieces of one row (x, y, w, h) joined: side by side, less than a character's height apart, mostly at
    the same height (a tilted plate's row breaks where its characters step up or down)."""
    rows = sorted(pieces)
    joined = True
    while joined:
        joined = False
        out: list[tuple[int, int, int, int]] = []
        for x, y, w, h in rows:
            for k, (ox, oy, ow, oh) in enumerate(out):
                overlap = min(y + h, oy + oh) - max(y, oy)
                gap = x - (ox + ow)
                if overlap >= 0.5 * min(h, oh) and gap <= max(h, oh) and 0.5 <= h / oh <= 2:
                    nx, ny = min(x, ox), min(y, oy)
                    out[k] = (nx, ny, max(x + w, ox + ow) - nx, max(y + h, oy + oh) - ny)
                    joined = True
                    break
            else:
                out.append((x, y, w, h))
        rows = sorted(out)
    return rows


def _same(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return union > 0 and inter / union > 0.7


def _cut_line(bgr: Any, scale: float, ox: int, oy: int, ox1: int, chars: list[tuple[int, int, int, int]],
              score: float, light: bool = False) -> LineCrop:
    """The characters' row from the full-size photo, across the whole plate (a character the component
    filter missed, touching its neighbour or the border, is still read), padded and levelled."""
    import cv2  # lazy: 0.3 s (see top)
    import numpy as np  # lazy: 0.3 s (see top)

    x0 = min(min(c[0] for c in chars) + ox, ox + 2)
    y0 = min(c[1] for c in chars) + oy
    x1 = max(max(c[0] + c[2] for c in chars) + ox, ox1 - 2)
    y1 = max(c[1] + c[3] for c in chars) + oy
    fx0, fy0, fx1, fy1 = (int(round(v / scale)) for v in (x0, y0, x1, y1))
    height = fy1 - fy0
    pad_y, pad_x = max(2, int(height * 0.2)), 0
    H, W = bgr.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, fx0 - pad_x), max(0, fy0 - pad_y), min(W, fx1 + pad_x), min(H, fy1 + pad_y)
    crop = bgr[cy0:cy1, cx0:cx1]
    if len(chars) >= 3:
        xs = np.array([c[0] + c[2] / 2 for c in chars], dtype=np.float32)
        ys = np.array([c[1] + c[3] / 2 for c in chars], dtype=np.float32)
        slope = float(np.polyfit(xs, ys, 1)[0]) if float(xs.std()) > 0 else 0.0
        angle = float(np.degrees(np.arctan(slope)))
        if abs(angle) > 2:
            ch, cw = crop.shape[:2]
            matrix = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
            crop = cv2.warpAffine(crop, matrix, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if light:  # the recogniser reads dark text on light ground best
        crop = cv2.bitwise_not(crop)
    return LineCrop(crop, (cx0, cy0, cx1, cy1), height, score)


def crop_png(data: bytes, box: tuple[int, int, int, int] | list[int], *, margin: float = 0.5,
             scale_to: int = 300) -> bytes | None:
    """The plate region of a photo as a PNG, enlarged to ``scale_to`` px wide (for the screen and the packet)."""
    from PIL import Image  # lazy: Pillow's import, 60 ms

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            x0, y0, x1, y1 = (int(v) for v in box)
            mx, my = int((x1 - x0) * margin / 2), int((y1 - y0) * margin)
            region = img.convert("RGB").crop((max(0, x0 - mx), max(0, y0 - my), min(img.width, x1 + mx),
                                              min(img.height, y1 + my)))
    except (OSError, ValueError) as exc:
        log.info("plate crop failed: %s", exc)
        return None
    factor = scale_to / max(1, region.width)
    region = region.resize((scale_to, max(1, int(region.height * factor))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    region.save(out, "PNG")
    return out.getvalue()


def timed_read(reader: PlateReader, data: bytes, jurisdiction: str | None = None) -> tuple[PhotoReading, int]:
    started = time.perf_counter()
    result = reader.read_bytes(data, jurisdiction)
    return result, int((time.perf_counter() - started) * 1000)
