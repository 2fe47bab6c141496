"""Upload checks: size, then content (magic bytes), not the name the user gave it."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Detected content type -> (stored extension, extensions a user's file may carry).
ALLOWED = {
    "application/pdf": ("pdf", {"pdf"}),
    "image/jpeg": ("jpg", {"jpg", "jpeg", "jfif"}),
    "image/png": ("png", {"png"}),
    "image/heic": ("heic", {"heic", "heif"}),
    "text/plain": ("txt", {"txt", "text", "md"}),
    DOCX: ("docx", {"docx"}),
}
ALLOWED_LABEL = gettext_noop("PDF, JPEG, PNG, HEIC, plain text or Word (.docx)")
ACCEPT_ATTR = ".pdf,.jpg,.jpeg,.png,.heic,.heif,.txt,.docx"
_HEAD = 8192


@dataclass
class CheckedFile:
    upload: UploadedFile
    content_type: str
    extension: str
    original_name: str
    size: int
    sha256: str


def _human(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _is_docx(upload: UploadedFile) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)


def _is_text(upload: UploadedFile) -> bool:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_content_type(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(_HEAD)
    upload.seek(0)
    kind = filetype.guess(head)  # untyped package: the names read below are its API
    if kind is not None:
        mime: str = kind.mime
        if mime == "application/zip" or mime.startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml"
        ):
            # filetype recognises DOCX by its first zip entry only; look inside.
            return DOCX if _is_docx(upload) else mime
        return mime
    if _is_text(upload):
        return "text/plain"
    return None


def check_upload(upload: UploadedFile, *, field: str = "file") -> CheckedFile:
    """Return the checked file or raise ValidationError({field: message})."""
    name = PurePath(upload.name or "upload").name
    limit = settings.MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {
                field: _("“%(name)s” is too large. The limit is %(limit)s per file.")
                % {"name": name, "limit": _human(limit)}
            }
        )
    if upload.size == 0:
        raise ValidationError({field: _("“%(name)s” is empty.") % {"name": name}})
    content_type = detect_content_type(upload)
    if content_type not in ALLOWED:
        raise ValidationError(
            {
                field: _("“%(name)s” is not a file type we accept. Please upload %(kinds)s.")
                % {"name": name, "kinds": _(ALLOWED_LABEL)}
            }
        )
    stored_ext, user_exts = ALLOWED[content_type]
    user_ext = PurePath(name).suffix.lower().lstrip(".")
    if user_ext not in user_exts:
        # The content and the name disagree (e.g. a PNG called .pdf): refuse rather
        # than guess which one the patient meant.
        raise ValidationError(
            {
                field: _("“%(name)s” does not contain what its name says. Please upload %(kinds)s.")
                % {"name": name, "kinds": _(ALLOWED_LABEL)}
            }
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    stem = get_valid_filename(PurePath(name).stem)[:80] or "file"
    return CheckedFile(
        upload=upload,
        content_type=content_type,
        extension=stored_ext,
        original_name=f"{stem}.{user_ext}",
        size=upload.size,
        sha256=digest.hexdigest(),
    )


def as_bytes_upload(data: bytes, name: str) -> UploadedFile:
    """An in-memory upload (for the demo seeder and tests)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
