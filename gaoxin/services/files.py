"""Attachments: type checked by content, stored under their SHA-256 in GAOXIN_DATA_DIR; raises FileRefused."""
import hashlib
import os
import tempfile
from pathlib import Path

import filetype
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Attachment

#: Accepted kinds: extension → (MIME type, Chinese name). Checked against the content, not the name.
ACCEPTED = {
    "pdf": ("application/pdf", "PDF"),
    "jpg": ("image/jpeg", "JPG"),
    "png": ("image/png", "PNG"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
#: 20 MB per file (issue 3).
MAX_BYTES = 20 * 1024 * 1024
CHUNK = 1024 * 1024


class FileRefused(ValueError):
    """The upload was refused; str(exc) is the Chinese reason."""


def accepted_names(kinds=None):
    """['pdf', 'jpg'] → 'PDF、JPG' (every accepted kind when none is given)."""
    return "、".join(ACCEPTED[k][1] for k in (kinds or ACCEPTED) if k in ACCEPTED)


def formats_title(formats):
    """A checklist item's stored formats 'pdf,jpg' → 'PDF、JPG'."""
    return accepted_names([k for k in formats.split(",") if k])


def _detect(head):
    kind = filetype.guess(head)
    if kind is None:
        return None
    ext = {"jpeg": "jpg"}.get(kind.extension, kind.extension)
    return ext if ext in ACCEPTED else None


def _storage_path(sha256):
    root = Path(current_app.config["GAOXIN_DATA_DIR"])
    return root / sha256[:2] / sha256[2:4] / sha256


def store_upload(file_storage, user, *, owner_type, owner_id=None, item_key=None, kinds=None):
    """Check and store one uploaded file; returns the flushed Attachment (owner_id may be None until
    the form succeeds). Raises FileRefused for an empty, over-size or wrongly typed file."""
    name = os.path.basename(file_storage.filename or "").strip() or "未命名文件"
    head = file_storage.stream.read(8192)
    if not head:
        raise FileRefused(f"文件“{name}”是空的。")
    kind = _detect(head)
    allowed = kinds or ACCEPTED
    if kind not in allowed:
        raise FileRefused(f"文件“{name}”的内容不是{accepted_names(allowed)}格式（按文件内容检查，而非文件名）。")
    digest = hashlib.sha256(head)
    size = len(head)
    root = Path(current_app.config["GAOXIN_DATA_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, delete=False, prefix=".upload-") as tmp:
        tmp.write(head)
        while chunk := file_storage.stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                tmp.close()
                os.unlink(tmp.name)
                raise FileRefused(f"文件“{name}”超过20MB。")
            digest.update(chunk)
            tmp.write(chunk)
    sha256 = digest.hexdigest()
    path = _storage_path(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Content-addressed: the same file uploaded twice is stored once; rename is atomic on one volume.
    os.replace(tmp.name, path)
    attachment = Attachment(
        owner_type=owner_type, owner_id=owner_id, item_key=item_key, filename=name[:200],
        content_type=ACCEPTED[kind][0], size=size, sha256=sha256, uploaded_by_id=user.id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def pending_attachments(user, ids, owner_type):
    """Files this user uploaded for a form that failed validation and has not been saved yet."""
    ids = [int(i) for i in ids if str(i).isdigit()]
    if not ids:
        return []
    return list(db.session.scalars(
        select(Attachment).where(
            Attachment.id.in_(ids), Attachment.uploaded_by_id == user.id,
            Attachment.owner_type == owner_type, Attachment.owner_id.is_(None),
        ).order_by(Attachment.id)
    ))


def attachments_of(owner_type, owner_id):
    return list(db.session.scalars(
        select(Attachment).where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
        .order_by(Attachment.id)
    ))


def open_verified(attachment):
    """The stored file's path, after checking its SHA-256 (a corrupted file is never served)."""
    path = _storage_path(attachment.sha256)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != attachment.sha256:
        raise FileRefused("文件校验失败，存储的文件已损坏，请联系系统管理员。")
    return path
