"""Documents an appellant sends (PDF, JPEG, PNG): checked, then stored by SHA-256 like evidence.

The checks go by content, never by file name: a PDF starts with ``%PDF-`` and ends with ``%%EOF``
(a truncated upload does not); an image must decode completely with Pillow, with decompression-bomb
protection (the same check field photos pass, ``desktop.persistence.evidence.verify_photo``). Anything else,
an empty file, or a file over the ``appeals.max_document_mb`` setting is refused with a message a
clerk can read out to the appellant. Stored files are written once and never rewritten
(``EvidenceStore`` semantics) under ``<data>/documents/appeals/ab/cd/<sha256>``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.digests import is_sha256_hex
from desktop.domain.errors import UserError
from desktop.persistence.evidence import EvidenceStore, verify_photo

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ACCEPTED = "PDF, JPEG or PNG"
_PDF_TAIL_BYTES = 2048
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


class DocumentRejected(UserError):
    """An appellant's file that cannot be accepted; the message names the file and the reason."""


@dataclass(frozen=True)
class CheckedDocument:
    """A file that passed the checks, ready to store."""

    filename: str
    data: bytes
    sha256: str
    mime_type: str
    page_count: int | None = None

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def _size_text(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, n // 1024)} KB"


def pdf_page_count(data: bytes) -> int | None:
    """Pages of a PDF counted from its page objects (no PDF library at run time); None if unsure."""
    count = len(_PAGE.findall(data))
    return count or None


def check_document(filename: str, data: bytes, max_bytes: int) -> CheckedDocument:
    """Accept a PDF, JPEG or PNG within ``max_bytes``; raise DocumentRejected saying why not."""
    name = Path(filename).name or "the document"
    if not data:
        raise DocumentRejected(f"{name} is empty (0 bytes). Ask the appellant for the file again.")
    if len(data) > max_bytes:
        raise DocumentRejected(f"{name} is {_size_text(len(data))}; documents may be at most "
                               f"{_size_text(max_bytes)}. Ask for a smaller scan or split it into parts.")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-_PDF_TAIL_BYTES:]:
            raise DocumentRejected(f"{name} is not a complete PDF (its end is missing; the upload or scan "
                                   f"was cut short). Ask for the file again.")
        return CheckedDocument(name, data, digest, PDF, pdf_page_count(data))
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        check = verify_photo(data, digest, None)
        if not check.ok:
            raise DocumentRejected(f"{name} cannot be accepted: the picture {check.reason}.")
        mime = {"JPEG": JPEG, "PNG": PNG}.get(check.image_format or "")
        if mime is None:
            raise DocumentRejected(f"{name} is a {check.image_format} picture; only {ACCEPTED} files are accepted.")
        return CheckedDocument(name, data, digest, mime)
    if data.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        raise DocumentRejected(f"{name} does not start like a PDF should; it may be damaged. Ask for it again.")
    raise DocumentRejected(f"{name} is not a {ACCEPTED} file. Ask the appellant to send it as {ACCEPTED}.")


def check_file(path: Path, max_bytes: int) -> CheckedDocument:
    """Read and check a file from disk (the size is checked before reading it all)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentRejected(f"{path.name} cannot be read: {exc.strerror or exc}.") from None
    if size > max_bytes:
        raise DocumentRejected(f"{path.name} is {_size_text(size)}; documents may be at most "
                               f"{_size_text(max_bytes)}. Ask for a smaller scan or split it into parts.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentRejected(f"{path.name} cannot be read: {exc.strerror or exc}.") from None
    return check_document(path.name, data, max_bytes)


class AppealDocumentStore(EvidenceStore):
    """Appellant documents by digest, without a file-name extension (the type is in the database)."""

    def __init__(self, documents_dir: Path) -> None:
        super().__init__(Path(documents_dir) / "appeals")

    def path_for(self, sha256: str) -> Path:
        if not is_sha256_hex(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256


def file_sha256(path: Path) -> str | None:
    """The digest of a file as it is on disk now, or None when it is missing."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
