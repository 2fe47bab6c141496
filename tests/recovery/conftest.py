"""Recovery fixtures: uploads in a temporary private root, sample files by content."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
# The fixed "now" of service-level tests: Sunday Nov 22, 2026, noon in New York.
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = root
    return root


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def heic_bytes() -> bytes:
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00" * 64


def _zip(members: dict[str, str]) -> bytes:
    # Each member gets a fixed date: writestr with a bare name stamps the wall clock,
    # and these bytes are test parameters, so two xdist workers collecting a second
    # apart saw different tests and the run stopped ("Different tests were collected").
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def docx_bytes() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})


def plain_zip_bytes() -> bytes:
    return _zip({"notes.txt": "hello"})


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def mz_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 112


def upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.fixture
def requirement(site):
    """The site's default: three meetings a week, any fellowship."""
    from recovery.models import MeetingRequirement

    return MeetingRequirement.objects.create(site=site, phase=None, meetings_per_week=3)


@pytest.fixture
def template(site, counselor):
    from recovery.services.homework import homework_template_create

    return homework_template_create(
        actor=counselor,
        site=site,
        title="Step 1 worksheet",
        instructions="Write about powerlessness.",
        now=NOW,
    )


@pytest.fixture
def second_template(site, counselor):
    from recovery.services.homework import homework_template_create

    return homework_template_create(
        actor=counselor,
        site=site,
        title="Triggers and cravings log",
        instructions="Log each craving this week.",
        now=NOW,
    )
