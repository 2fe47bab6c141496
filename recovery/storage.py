"""Private storage for uploads: rooted at PRIVATE_MEDIA_ROOT, never at a public URL."""

from __future__ import annotations

import os
import secrets
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage whose root follows ``settings.PRIVATE_MEDIA_ROOT`` (read on each
    use, so tests can point it at a temporary folder) and which has no URL at all:
    ``url()`` raises, so no template can link to a file around the access check."""

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @property
    def base_url(self) -> None:  # type: ignore[override]  # private: no URL
        return None

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; serve them through recovery:file.")


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    return _storage


def random_upload_name(instance: object, filename: str) -> str:
    """A random name; the patient's file name is kept only in ``original_name``.

    The extension comes from the detected content type (set by the upload check),
    never from what the user typed."""
    ext = PurePosixPath(filename).suffix.lower()[:8]
    return f"recovery/{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}{ext}"
