"""Upload checks: content, not the file name, decides; size limit; private storage."""

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from recovery.models import Attachment, HomeworkSubmission, Meeting
from recovery.storage import private_storage
from recovery.uploads import check_upload
from tests.conftest import SCENARIO_NOW
from tests.recovery.conftest import (
    NY,
    docx_bytes,
    elf_bytes,
    heic_bytes,
    jpeg_bytes,
    mz_bytes,
    pdf_bytes,
    plain_zip_bytes,
    png_bytes,
    upload,
)

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (pdf_bytes(), "sheet.pdf", "application/pdf"),
        (jpeg_bytes(), "photo.JPG", "image/jpeg"),
        (png_bytes(), "photo.png", "image/png"),
        (heic_bytes(), "IMG_0001.HEIC", "image/heic"),
        ("Craving at 6pm — walked instead.\n".encode(), "log.txt", "text/plain"),
        (
            docx_bytes(),
            "plan.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_allowed_types_are_accepted_by_content(data, name, content_type):
    assert check_upload(upload(data, name)).content_type == content_type


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (elf_bytes(), "sheet.pdf"),  # a Linux executable renamed .pdf
        (mz_bytes(), "sheet.pdf"),  # a Windows executable renamed .pdf
        (mz_bytes(), "photo.jpg"),
        (plain_zip_bytes(), "plan.docx"),  # a zip without word/document.xml
        (b"GIF89a" + b"\x00" * 40, "photo.gif"),  # an image type we do not take
        (b"hello\x00world", "notes.txt"),  # text with a NUL byte
        (b"\xff\xfe\xfa not utf-8", "notes.txt"),
    ],
)
def test_forbidden_content_is_refused_whatever_the_name(data, name):
    with pytest.raises(ValidationError, match="not a file type we accept"):
        check_upload(upload(data, name))


def test_content_and_name_must_agree():
    with pytest.raises(ValidationError, match="does not contain what its name says"):
        check_upload(upload(png_bytes(), "sheet.pdf"))


def test_file_over_the_size_limit_is_refused(settings):
    settings.MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationError, match="too large"):
        check_upload(upload(pdf_bytes() + b" " * 2000, "big.pdf"))
    assert check_upload(upload(pdf_bytes(), "small.pdf")).size < 1024


def test_empty_file_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        check_upload(upload(b"", "empty.txt"))


def _meeting_post(sheet):
    held = timezone.localtime(timezone.now(), NY) - timedelta(hours=3)
    return {
        "held_at": held.strftime("%Y-%m-%dT%H:%M"),
        "fellowship": "aa",
        "name": "Noon group",
        "mode": "online",
        "sheet": sheet,
    }


def test_renamed_executable_on_the_meeting_form_stores_nothing(client, patient, private_root):
    client.force_login(patient.user)
    response = client.post(
        reverse("recovery:portal_meetings"), _meeting_post(upload(elf_bytes(), "sheet.pdf"))
    )
    assert response.status_code == 200
    assert "not a file type we accept" in response.content.decode()
    assert not Meeting.objects.exists() and not Attachment.objects.exists()
    assert not any(p.is_file() for p in Path(private_root).rglob("*"))


def test_oversized_homework_file_is_refused_with_a_message(
    client, settings, patient, counselor, template
):
    from datetime import date

    from recovery.services.homework import homework_assign

    settings.MAX_UPLOAD_BYTES = 100
    a = homework_assign(
        actor=counselor, patient=patient, template=template, due_date=date(2026, 12, 31)
    )
    client.force_login(patient.user)
    response = client.post(
        reverse("recovery:portal_homework_submit", args=[a.pk]),
        {"text": "see file", "files": [upload(pdf_bytes() * 10, "plan.pdf")]},
    )
    assert "too large" in response.content.decode()
    assert not HomeworkSubmission.objects.exists() and not Attachment.objects.exists()


def test_stored_under_the_private_root_with_a_random_name(client, patient, private_root):
    client.force_login(patient.user)
    client.post(
        reverse("recovery:portal_meetings"), _meeting_post(upload(png_bytes(), "robin-sheet.png"))
    )
    stored = Attachment.objects.get()
    path = Path(stored.file.path)
    assert path.is_file() and Path(private_root) in path.parents
    assert "robin" not in stored.file.name and stored.file.name.endswith(".png")
    assert stored.original_name == "robin-sheet.png"


def test_private_files_have_no_public_url():
    with pytest.raises(ValueError):
        private_storage().url("recovery/x.png")


def test_the_sample_files_do_not_depend_on_the_clock():
    # They are test parameters: xdist requires every worker to collect the same bytes.
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        first = (docx_bytes(), plain_zip_bytes())
    with time_machine.travel("2027-06-30 12:34:56Z", tick=False):
        assert (docx_bytes(), plain_zip_bytes()) == first
