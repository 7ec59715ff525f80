"""Attachments: type checked by content, stored under their SHA-256 in GAOXIN_DATA_DIR; raises FileRefused."""
import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import filetype
from flask import current_app
from sqlalchemy import delete, select

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
#: A file name's UTF-8 length: fits the column (200 characters) and every file system a user saves to (255 bytes).
NAME_MAX_BYTES = 200
UNNAMED = "未命名文件"
#: Other spellings of an accepted kind's extension: a JPEG called .jpeg keeps its name.
SPELLINGS = {"pdf": {"pdf"}, "jpg": {"jpg", "jpeg", "jpe", "jfif"}, "png": {"png"}, "docx": {"docx"}, "xlsx": {"xlsx"}}
#: Extensions of kinds a user may mistake for another (a .doc that is a DOCX): replaced, not kept before the right one.
DOCUMENT_EXTENSIONS = set().union(*SPELLINGS.values(), {"doc", "xls", "gif", "bmp", "tif", "tiff", "webp", "heic"})
_KIND_OF_TYPE = {mime: kind for kind, (mime, _) in ACCEPTED.items()}
#: Control characters (a line break makes the Content-Disposition header impossible), bidi controls (U+202E
#: shows "<U+202E>fdp.exe" as "exe.pdf"), line and paragraph separators, lone surrogates.
_UNSAFE_IN_NAME = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
#: An attachment id as a form sends it: 1 to 999999999 (the column is a 32-bit integer).
_ID = re.compile(r"[1-9][0-9]{0,8}")
#: Characters Windows does not allow in a file name.
_RESERVED_IN_NAME = re.compile(r'[<>:"|?*]')


class FileRefused(ValueError):
    """The upload was refused; str(exc) is the Chinese reason."""


def accepted_names(kinds=None):
    """['pdf', 'jpg'] → 'PDF、JPG' (every accepted kind when none is given)."""
    return "、".join(ACCEPTED[k][1] for k in (kinds or ACCEPTED) if k in ACCEPTED)


def formats_title(formats):
    """A checklist item's stored formats 'pdf,jpg' → 'PDF、JPG'."""
    return accepted_names([k for k in formats.split(",") if k])


def clean_filename(raw):
    """A file name safe to store, show and send: no control or bidi characters, no folders (a browser may
    send C:\\fakepath\\…), no Windows-reserved characters, no leading or trailing dots or spaces, at most
    NAME_MAX_BYTES in UTF-8 with its extension kept; "未命名文件" when nothing is left."""
    name = _UNSAFE_IN_NAME.sub("", unicodedata.normalize("NFC", str(raw or "")))
    name = re.split(r"[/\\]", name)[-1]
    name = _RESERVED_IN_NAME.sub("_", name).strip(" .\u3000")
    if not name:
        return UNNAMED
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return _fit(name, "")
    return _fit(stem, extension)


def _fit(stem, extension):
    """stem.extension, the stem shortened (never inside a character) to fit NAME_MAX_BYTES."""
    suffix = f".{extension}" if extension else ""
    room = NAME_MAX_BYTES - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .") or UNNAMED
    return stem + suffix


def with_extension(name, kind):
    """`name` cleaned and ending in the extension of `kind` (the type found in the content): a PDF called
    报告.jpg becomes 报告.pdf, one called report.exe becomes report.exe.pdf."""
    name = clean_filename(name)
    if kind not in SPELLINGS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem:
        if extension.lower() in SPELLINGS[kind]:
            return name
        if extension.lower() in DOCUMENT_EXTENSIONS:
            return _fit(stem, kind)
    return _fit(name, kind)


def download_name(attachment):
    """The name to send an attachment under (send_file's download_name): cleaned, ending in the extension of
    the type its content was found to be; also for rows stored before names were cleaned at upload."""
    return with_extension(attachment.filename, _KIND_OF_TYPE.get(attachment.content_type))


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
    name = clean_filename(file_storage.filename)
    head = file_storage.stream.read(8192)
    if not head:
        raise FileRefused(f"文件“{name}”是空的。")
    kind = _detect(head)
    allowed = kinds or ACCEPTED
    if kind not in allowed:
        raise FileRefused(f"文件“{name}”的内容不是{accepted_names(allowed)}格式（按文件内容检查，而非文件名）。")
    try:
        sha256, size = _write(file_storage, head, name)
    except OSError as exc:
        # Disk full, a read-only or missing volume: the form comes back with this message by the field and
        # everything typed; no row is written for a file that is not there.
        current_app.logger.error("Attachment not stored in %s: %s", current_app.config["GAOXIN_DATA_DIR"], exc)
        raise FileRefused(f"文件“{name}”未能保存：附件存储空间已满或暂时无法写入。已填写的内容已保留，"
                          "请稍后重新选择文件提交，并告知系统管理员。") from exc
    attachment = Attachment(
        owner_type=owner_type, owner_id=owner_id, item_key=item_key, filename=with_extension(name, kind),
        content_type=ACCEPTED[kind][0], size=size, sha256=sha256, uploaded_by_id=user.id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def _write(file_storage, head, name):
    """Write the upload to a temporary file, then move it to its content address; returns (sha256, size).
    Raises FileRefused when it is too large and OSError when the volume refuses it (nothing left behind)."""
    digest = hashlib.sha256(head)
    size = len(head)
    root = Path(current_app.config["GAOXIN_DATA_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(dir=root, delete=False, prefix=".upload-")
    try:
        with tmp:
            tmp.write(head)
            while chunk := file_storage.stream.read(CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FileRefused(f"文件“{name}”超过20MB。")
                digest.update(chunk)
                tmp.write(chunk)
            tmp.flush()
            # On the disk before the row that names it is committed (a power cut keeps no row without file).
            os.fsync(tmp.fileno())
        sha256 = digest.hexdigest()
        path = _storage_path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Content-addressed: the same file uploaded twice is stored once; rename is atomic on one volume.
        os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    return sha256, size


def store_uploads(uploads, user, *, owner_type, item_key=None, kinds=None):
    """Store every non-empty upload of one form field; returns (attachments, messages of refused files)."""
    stored, refused = [], []
    for upload in uploads or []:
        if upload and upload.filename:
            try:
                stored.append(store_upload(upload, user, owner_type=owner_type, item_key=item_key, kinds=kinds))
            except FileRefused as exc:
                refused.append(str(exc))
    return stored, refused


def pending_attachments(user, ids, owner_type):
    """Files this user uploaded for a form that failed validation and has not been saved yet."""
    # ASCII digits only, within the id column's range: "²" passes isdigit() but not int(), and PostgreSQL
    # refuses to compare an integer column with 2147483648.
    ids = [int(i) for i in ids if _ID.fullmatch(str(i))]
    if not ids:
        return []
    return list(db.session.scalars(
        select(Attachment).where(
            Attachment.id.in_(ids), Attachment.uploaded_by_id == user.id,
            Attachment.owner_type == owner_type, Attachment.owner_id.is_(None),
        ).order_by(Attachment.id)
    ))


def remove_abandoned(before):
    """Remove what an interrupted or abandoned form left behind before `before` (UTC): attachment rows that no
    case ever claimed (kept meanwhile so a refused form need not be uploaded again), their files when no other
    row names the same content, and temporary `.upload-*` files of a worker killed while writing. Returns
    (rows, files) removed."""
    abandoned = list(db.session.execute(select(Attachment.id, Attachment.sha256).where(
        Attachment.owner_id.is_(None), Attachment.created_at < before)))
    if abandoned:
        db.session.execute(delete(Attachment).where(Attachment.id.in_([row.id for row in abandoned])))
    hashes = {row.sha256 for row in abandoned}
    still_named = set(db.session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(hashes)))) \
        if hashes else set()
    db.session.commit()
    removed = 0
    for sha256 in hashes - still_named:
        with contextlib.suppress(FileNotFoundError):
            _storage_path(sha256).unlink()
            removed += 1
    root = Path(current_app.config["GAOXIN_DATA_DIR"])
    cutoff = before.timestamp()
    for tmp in root.glob(".upload-*") if root.is_dir() else ():
        with contextlib.suppress(FileNotFoundError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
    return len(abandoned), removed


def attachment_of(owner_type, owner_id, attachment_id):
    """One attachment of one case, or None (a file of another case is not found through this one)."""
    return db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.owner_type == owner_type, Attachment.owner_id == owner_id))


def attachments_of(owner_type, owner_id):
    """The files attached to one case, oldest first."""
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
