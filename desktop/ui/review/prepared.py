"""One citation made ready for the Review screen off the GUI thread: its facts and its decoded photos.
The screen prefetches the next few with `prepare` so that approving shows the next citation at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QImage

from desktop.services.review import queue as review_service
from desktop.services.review.queue import ReviewItem
from desktop.ui.common.evidence_viewer import DecodedPhoto, decode_photo
from desktop.ui.common.tasks import TaskControl


@dataclass
class Prepared:
    """One citation made ready off the GUI thread: facts, decoded photos (and the map's spec in ``item``)."""

    item: ReviewItem
    photos: list[DecodedPhoto]
    seconds: float = 0.0
    plate_crop: QImage | None = None
    """The plate read from the photo, enlarged (decoded here, off the GUI thread)."""


def prepare(app: Any, actor: Any, citation_id: int, control: TaskControl | None = None) -> Prepared:
    """Everything the screen needs for one citation (runs on a worker thread)."""
    started = time.perf_counter()
    item = review_service.review_item(app, actor, citation_id)
    photos = []
    for p in item.photos:
        if control is not None:
            control.check()
        if p.integrity == "missing":
            photos.append(DecodedPhoto(None, "the photo was declared by the handheld but never received"))
        else:
            photos.append(decode_photo(p.path))
    crop = None
    if item.plate_photo is not None and item.plate_photo.crop_png:
        image = QImage()
        crop = image if image.loadFromData(item.plate_photo.crop_png) and not image.isNull() else None
    return Prepared(item, photos, time.perf_counter() - started, crop)
