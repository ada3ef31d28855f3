"""Evidence store: citation photos on disk, named by SHA-256, written once and never rewritten.

Also the checks a photo must pass before it is accepted (protocol rule 3:
digest, size, decodes as an image, no decompression bomb), cached thumbnails,
EXIF reading that never raises (real evidence files are messy: empty GPS
blocks, rationals with zero denominators, decimal-minute coordinates,
zero-length strings, corrupted data), and opening a photo for display with its
EXIF orientation applied.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from desktop.domain.digests import is_sha256_hex
from desktop.domain.errors import UserError
from desktop.persistence.files import fsync_dir

_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_ORIENTATION = 0x0112
_TAG_DATETIME = 0x0132
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME = 0x9010
_TAG_OFFSET_TIME_ORIGINAL = 0x9011


class EvidenceTampered(UserError):
    """A stored evidence file no longer matches its digest."""


class EvidenceUnreadable(UserError):
    """A stored photo cannot be decoded (for a thumbnail or display)."""


class EvidenceMissing(UserError):
    """A photo recorded on a citation is not in the evidence store."""


#: What every screen, packet and notice says of a stored photo that no longer hashes to its name.
MISMATCH_REASON = "photo does not match its recorded digest: evidence may have been altered"
MISSING_REASON = "the photo file is not in the evidence store"


@dataclass(frozen=True)
class EvidenceCheck:
    """A stored photo checked against the digest it is recorded (and named) by.

    ``status`` is ``verified`` (the file hashes to its name), ``mismatch`` (it does not, or the recorded
    digest is not one) or ``missing`` (no file)."""

    sha256: str
    status: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "verified"


# Digests of files already hashed while the application runs, keyed by what identifies one version of a
# file on disk: path, size, mtime_ns, ctime_ns and inode. Replacing or rewriting the file changes its
# ctime (which a user cannot set back) and usually its inode, so a changed file is hashed again.
_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()
_DIGESTS_MAX = 200_000


def _stat_key(path: Path, st: os.stat_result) -> tuple[str, int, int, int, int]:
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _cached_digest(path: Path) -> str:
    """The file's SHA-256, hashed once per version of the file (FileNotFoundError when absent)."""
    before = os.stat(path)
    key = _stat_key(path, before)
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(key)
    if known is not None:
        return known
    digest = file_sha256(path)
    if _stat_key(path, os.stat(path)) == key:  # unchanged while it was read: the digest is of this version
        with _DIGESTS_LOCK:
            if len(_DIGESTS) >= _DIGESTS_MAX:
                _DIGESTS.clear()
            _DIGESTS[key] = digest
    return digest


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class PhotoCheck:
    """The outcome of checking downloaded photo bytes against what the event declared."""

    ok: bool
    sha256: str
    size: int
    reason: str = ""
    width: int | None = None
    height: int | None = None
    image_format: str | None = None


def _decode_guarded(data: bytes) -> tuple[int, int, str | None]:
    """Fully decode image bytes; decompression-bomb warnings are errors. Raises on failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.width, image.height, image.format


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return "image is too large to decode safely (decompression bomb protection)"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can identify"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"does not decode as an image ({text[:120]})"


def verify_photo(data: bytes, declared_sha256: str, declared_bytes: int | None) -> PhotoCheck:
    """Check photo bytes: size equals ``declared_bytes`` (when given), SHA-256 equals the declared
    digest, and the image decodes completely. Never raises for bad bytes."""
    size = len(data)
    digest = hashlib.sha256(data).hexdigest()
    if declared_bytes is not None and size != declared_bytes:
        return PhotoCheck(False, digest, size, f"size is {size} bytes, the event declared {declared_bytes}")
    if digest != (declared_sha256 or "").lower():
        return PhotoCheck(False, digest, size, f"SHA-256 is {digest[:12]}…, the event declared "
                                               f"{(declared_sha256 or '')[:12]}…")
    try:
        width, height, image_format = _decode_guarded(data)
    except Exception as exc:  # Pillow raises many kinds for broken files
        return PhotoCheck(False, digest, size, _reason(exc))
    return PhotoCheck(True, digest, size, "", width, height, image_format)


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    path: Path
    size: int
    created: bool  # False when the file was already there (verified and kept)


class EvidenceStore:
    """Photo files under ``root``: ``root/ab/cd/<sha256>.jpg``; thumbnails under ``root/thumbs``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not is_sha256_hex(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    def thumbnail_path(self, sha256: str, size: int) -> Path:
        return self.root / "thumbs" / sha256[:2] / f"{sha256}-{size}.jpg"

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, data: bytes, sha256: str | None = None) -> StoredPhoto:
        """Store bytes under their digest (durably: temp file, fsync, rename). Never rewrites a file.

        When ``sha256`` is given it must match the bytes (ValueError otherwise: verify first).
        If the file already exists it is checked and kept; a stored file that no
        longer matches its name raises :class:`EvidenceTampered`.
        """
        digest = hashlib.sha256(data).hexdigest()
        if sha256 is not None and sha256 != digest:
            raise ValueError(f"bytes hash to {digest}, not {sha256}")
        final = self.path_for(digest)
        if final.exists():
            self._check_existing(final, digest)
            return StoredPhoto(digest, final, final.stat().st_size, created=False)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".incoming-", suffix=".tmp")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temp, final)  # fails if another writer got there first: never overwrite
            except FileExistsError:
                self._check_existing(final, digest)
                return StoredPhoto(digest, final, final.stat().st_size, created=False)
            except OSError:
                if final.exists():
                    self._check_existing(final, digest)
                    return StoredPhoto(digest, final, final.stat().st_size, created=False)
                os.replace(temp, final)  # file systems without hard links
            fsync_dir(final.parent)
        finally:
            temp.unlink(missing_ok=True)
        try:
            os.chmod(final, 0o444)
        except OSError:
            pass
        return StoredPhoto(digest, final, len(data), created=True)

    def read(self, sha256: str) -> bytes:
        """The stored bytes, unchecked: only for copying the store itself. Display and print use
        :meth:`read_verified`, status for screens :meth:`check`."""
        return self.path_for(sha256).read_bytes()

    def check(self, sha256: str) -> EvidenceCheck:
        """Whether the stored photo still matches its digest. Never raises; the digest of each version of
        a file is computed once while the application runs (so screens can ask on every display)."""
        try:
            path = self.path_for(sha256)
        except ValueError:
            return EvidenceCheck(str(sha256), "mismatch", MISMATCH_REASON)
        try:
            digest = _cached_digest(path)
        except FileNotFoundError:
            return EvidenceCheck(sha256, "missing", MISSING_REASON)
        except OSError as exc:
            return EvidenceCheck(sha256, "missing", f"the photo file cannot be read ({exc.strerror})")
        if digest != sha256.lower():
            return EvidenceCheck(sha256, "mismatch", MISMATCH_REASON)
        return EvidenceCheck(sha256, "verified")

    def read_verified(self, sha256: str) -> bytes:
        """The stored photo's bytes, hashed as read: :class:`EvidenceTampered` when they do not match
        the digest (the bytes returned are exactly the bytes checked), :class:`EvidenceMissing` when
        there is no file."""
        try:
            path = self.path_for(sha256)
        except ValueError:
            raise EvidenceTampered(f"Photo {str(sha256)[:12]}…: {MISMATCH_REASON}.") from None
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise EvidenceMissing(f"Photo {sha256[:12]}…: {MISSING_REASON}.") from None
        if hashlib.sha256(data).hexdigest() != sha256.lower():
            raise EvidenceTampered(f"Photo {sha256[:12]}…: {MISMATCH_REASON}.")
        return data

    def verify(self, sha256: str) -> bool:
        """True when the stored file still hashes to its name."""
        path = self.path_for(sha256)
        return path.is_file() and file_sha256(path) == sha256

    def _check_existing(self, path: Path, digest: str) -> None:
        if file_sha256(path) != digest:
            raise EvidenceTampered(
                f"The stored evidence file {path.name} no longer matches its digest. "
                "It has been altered on disk; restore it from a backup."
            )

    def thumbnail(self, sha256: str, size: int = 320) -> Path:
        """A JPEG thumbnail at most ``size`` pixels on its long side, made once and cached."""
        target = self.thumbnail_path(sha256, size)
        if target.is_file():
            return target
        source = self.path_for(sha256)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(source) as image:
                    if image.format == "JPEG":
                        image.draft("RGB", (size, size))
                    oriented = ImageOps.exif_transpose(image)
                    oriented.thumbnail((size, size))
                    thumb = oriented.convert("RGB")
        except FileNotFoundError:
            raise EvidenceUnreadable(f"Photo {sha256[:12]}… is not in the evidence store.") from None
        except Exception as exc:
            raise EvidenceUnreadable(f"Photo {sha256[:12]}… cannot be shown: {_reason(exc)}.") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".thumb-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            thumb.save(out, "JPEG", quality=85)
        os.replace(temp_name, target)
        return target


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- EXIF


@dataclass(frozen=True)
class ExifInfo:
    """What a photo's EXIF says. ``captured_at`` is aware when the file has an offset
    (OffsetTimeOriginal/OffsetTime), otherwise naive camera-local time with
    ``captured_at_naive`` True. ``error`` says why the file (or a part of it) could not be read."""

    captured_at: datetime | None = None
    captured_at_naive: bool = False
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    orientation: int | None = None
    error: str | None = None
    gps_error: str | None = None

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _number(value: Any) -> float:
    """A float from the many forms EXIF numbers take (IFDRational, (num, den), int, float)."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        num, den = value
        if den == 0:
            raise ValueError("rational with a zero denominator")
        return float(num) / float(den)
    if isinstance(value, (bytes, str, bool)) or value is None:
        raise ValueError(f"not a number: {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError("not a finite number")
    return result


def _coordinate(value: Any, ref: Any, positive: str, negative: str, limit: float) -> float:
    if isinstance(value, (tuple, list)):
        parts = [_number(v) for v in value]
    else:
        parts = [_number(value)]
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"a coordinate has {len(parts)} parts")
    parts += [0.0] * (3 - len(parts))
    degrees, minutes, seconds = parts
    if minutes < 0 or seconds < 0 or minutes >= 60 + 1e-9 or seconds >= 60 + 1e-9:
        raise ValueError("minutes or seconds out of range")
    result = abs(degrees) + minutes / 60 + seconds / 3600
    reference = (_text(ref) or "").upper()[:1]
    if reference == negative or (degrees < 0 and reference != positive):
        result = -result
    elif reference not in ("", positive):
        raise ValueError(f"unknown hemisphere {reference!r}")
    if abs(result) > limit:
        raise ValueError("coordinate out of range")
    return round(result, 7)


def _exif_time(text: str | None, offset_text: str | None) -> tuple[datetime | None, bool]:
    if not text:
        return None, False
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, False
    offset = _text(offset_text)
    if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        try:
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            return moment.replace(tzinfo=timezone(sign * delta)), False
        except ValueError:
            pass
    return moment, True


def read_exif(path: Path) -> ExifInfo:
    """Read capture time, position, camera and orientation. Never raises: problems go to ``error``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                exif = image.getexif()
                return _exif_info(exif)
    except Exception as exc:  # any broken file: report, never raise
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ExifInfo(error=f"EXIF could not be read: {text[:120]}")


def _exif_info(exif: Image.Exif) -> ExifInfo:
    problems: list[str] = []

    def sub_ifd(tag: int) -> dict[int, Any]:
        try:
            return dict(exif.get_ifd(tag))
        except Exception as exc:
            problems.append(f"IFD {tag:#x} unreadable ({type(exc).__name__})")
            return {}

    exif_ifd = sub_ifd(ExifTags.IFD.Exif)
    gps_ifd = sub_ifd(ExifTags.IFD.GPSInfo)

    def tag(source: Any, key: int) -> Any:
        try:
            return source.get(key)
        except Exception:
            return None

    captured_at, naive = _exif_time(
        _text(tag(exif_ifd, _TAG_DATETIME_ORIGINAL)), _text(tag(exif_ifd, _TAG_OFFSET_TIME_ORIGINAL))
    )
    if captured_at is None:
        captured_at, naive = _exif_time(_text(tag(exif, _TAG_DATETIME)), _text(tag(exif_ifd, _TAG_OFFSET_TIME)))

    orientation_value = tag(exif, _TAG_ORIENTATION)
    orientation = orientation_value if isinstance(orientation_value, int) and 1 <= orientation_value <= 8 else None

    latitude = longitude = altitude = None
    gps_error = None
    if gps_ifd.get(2) is not None or gps_ifd.get(4) is not None:
        try:
            latitude = _coordinate(gps_ifd.get(2), gps_ifd.get(1), "N", "S", 90.0)
            longitude = _coordinate(gps_ifd.get(4), gps_ifd.get(3), "E", "W", 180.0)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
            latitude = longitude = None
            gps_error = f"GPS position unreadable: {exc}"
    if gps_ifd.get(6) is not None:
        try:
            altitude = _number(gps_ifd.get(6))
            ref = gps_ifd.get(5)
            if ref in (1, b"\x01", "\x01"):
                altitude = -altitude
            altitude = round(altitude, 2)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            altitude = None
    return ExifInfo(
        captured_at=captured_at,
        captured_at_naive=naive if captured_at is not None else False,
        latitude=latitude,
        longitude=longitude,
        altitude_m=altitude,
        camera_make=_text(tag(exif, _TAG_MAKE)),
        camera_model=_text(tag(exif, _TAG_MODEL)),
        orientation=orientation,
        error="; ".join(problems) or None,
        gps_error=gps_error,
    )


def open_for_display(path: Path) -> tuple[Image.Image | None, str]:
    """Decode a photo for showing, rotated upright per its EXIF orientation.

    Returns ``(image, "")`` or ``(None, reason)``; never raises for a bad file.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                if upright is image:
                    upright = image.copy()
                return upright, ""
    except FileNotFoundError:
        return None, "the photo file is missing"
    except Exception as exc:
        return None, _reason(exc)
