"""Notes on a case and the documents attached to them (a letter, a photo of a receipt).

Attachments are stored once, by the SHA-256 of their bytes, under ``paths.documents_dir``, and
never rewritten; the note keeps the digest and the original file name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission
from desktop.domain.text import clean_text
from desktop.persistence.models import CaseNote, Citation
from desktop.services.core.context import Actor, AppContext, retried

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_NOTE_CHARS = 4000


class DocumentStore:
    """Files by digest: ``root/ab/cd/<sha256>``, written once (temp file, fsync, link), read-only after."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        final = self.path_for(digest)
        if final.exists():
            if hashlib.sha256(final.read_bytes()).hexdigest() != digest:
                raise UserError(f"The stored document {digest[:12]}… no longer matches its digest; "
                                "restore it from a backup.")
            return digest
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temp_name, final)
            except FileExistsError:
                pass
            except OSError:
                if not final.exists():
                    os.replace(temp_name, final)
        finally:
            Path(temp_name).unlink(missing_ok=True)
        try:
            os.chmod(final, 0o444)
        except OSError:
            pass
        return digest

    def verify(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


@retried
def add_note(app: AppContext, actor: Actor, citation_id: int, text: str,
             attachment: Path | None = None) -> CaseNote:
    """A note on the case, optionally with a file attached (stored by digest); audited."""
    text = text.strip()
    if not text and attachment is None:
        raise UserError("Write a note or attach a file.")
    if len(text) > MAX_NOTE_CHARS:
        raise UserError(f"A note holds at most {MAX_NOTE_CHARS} characters ({len(text)} given).")
    clean_text(text, "The note", MAX_NOTE_CHARS)
    digest = name = None
    if attachment is not None:
        attachment = Path(attachment)
        try:
            size = attachment.stat().st_size
            if size > MAX_ATTACHMENT_BYTES:
                raise UserError(f"{attachment.name} is {size / 1e6:.1f} MB; attachments are limited to "
                                f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB.")
            data = attachment.read_bytes()
        except OSError as exc:
            raise UserError(f"Cannot read {attachment}: {exc.strerror}.") from None
        digest = DocumentStore(app.paths.documents_dir).put(data)
        name = clean_text(attachment.name[:300], "The attachment's file name", 300)
    with app.uow(actor, Permission.EDIT_CASES) as uow:
        if uow.session.get(Citation, citation_id) is None:
            raise NotFound(f"Case {citation_id} does not exist.")
        note = CaseNote(citation_id=citation_id, user_id=actor.user_id, at=app.now(), text=text or "(attachment)",
                        attachment_sha256=digest, attachment_name=name)
        uow.session.add(note)
        uow.session.flush()
        uow.audit("note.added", "citation", citation_id,
                  after={"note": note.id, "attachment": name, "sha256": digest})
        uow.commit()
        return note


def attachment_copy(app: AppContext, note: CaseNote, folder: Path | None = None) -> Path:
    """A read-only copy of a note's attachment under its original name, to open in another program."""
    if not note.attachment_sha256:
        raise UserError("This note has no attachment.")
    store = DocumentStore(app.paths.documents_dir)
    if not store.verify(note.attachment_sha256):
        raise UserError(f"The attachment {note.attachment_name} is missing from the document store or was "
                        "altered; restore it from a backup.")
    target_dir = Path(folder or tempfile.mkdtemp(prefix="curbdesk-doc-"))
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / Path(note.attachment_name or note.attachment_sha256).name
    if target.exists():
        os.chmod(target, 0o644)
        target.unlink()
    shutil.copyfile(store.path_for(note.attachment_sha256), target)
    os.chmod(target, 0o444)
    return target
