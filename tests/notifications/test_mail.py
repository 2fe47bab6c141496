"""The SMTP backend the batch sender uses (core/mail.py): plain-text messages written
directly must be byte for byte what Django's own SMTP backend sends; everything else
is Django's backend unchanged."""

from __future__ import annotations

import email.generator
from email import message_from_bytes

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend

from core import mail as core_mail
from core.mail import SMTPEmailBackend, plain_message_bytes

FROM = "Clinic <no-reply@example.org>"
DATE = "Thu, 01 Jan 2026 12:00:00 -0000"


@pytest.fixture
def fixed_date(monkeypatch):
    """The same Date in both builds (the frozen clock still ticks across a second)."""
    import django.core.mail.message as django_message

    monkeypatch.setattr(django_message, "formatdate", lambda localtime=False: DATE)
    monkeypatch.setattr(core_mail, "formatdate", lambda localtime=False: DATE)
    # Multipart boundaries are random; fixed, Django's two builds can be compared.
    monkeypatch.setattr(
        email.generator.Generator, "_make_boundary", classmethod(lambda cls, text=None: "=b=")
    )


def reminder(**changes) -> EmailMessage:
    fields = {
        "subject": "A reminder",
        "body": "Hi Robin,\nsee you on Tue Dec 1 at 6:00 PM.\n.\nA line after a lone dot.",
        "from_email": FROM,
        "to": ["robin@example.org"],
        "headers": {"Message-ID": "<n7@stepwise.notifications>"},
    }
    return EmailMessage(**{**fields, **changes})


PLAIN = {
    "a reminder": {},
    "a trailing line break": {"body": "Hi Robin,\nsee you.\n"},
    "CRLF and CR line breaks": {"body": "one\r\ntwo\rthree\n\nfour\t(tab)"},
    "lines starting with dots": {"body": ".\n..\n. a dot\n.."},
    "an empty body": {"body": ""},
    "an empty subject": {"subject": ""},
    "spaces around and inside the subject": {"subject": "  A   reminder  "},
    "a subject just short of folding": {"subject": "x" * 69},
    "encoded-word lookalikes": {"subject": "=?utf-8?q?not_encoded?= ok"},
    "a body line at the limit": {"body": "y" * 998},
    "two recipients": {"to": ["robin@example.org", "sam.o'neil+iop@mail.example-clinic.org"]},
    "no Message-ID given": {"headers": {}},
}

DJANGOS = {
    "a non-ASCII subject": {"subject": "Rappel: séance"},
    "a non-ASCII body": {"body": "Hi Zoë"},
    "a control character in the body": {"body": "page\x0cbreak"},
    "a display name in To": {"to": ["Robin <robin@example.org>"]},
    "a non-ASCII sender name": {"from_email": "Clinique Zoë <no-reply@example.org>"},
    "a subject long enough to fold": {"subject": "x" * 70},
    "a body line over the limit": {"body": "y" * 999},
    "another header": {"headers": {"Message-ID": "<n7@x>", "X-Kind": "reminder"}},
    "Cc": {"cc": ["sam@example.org"]},
    "Bcc": {"bcc": ["sam@example.org"]},
    "Reply-To": {"reply_to": ["desk@example.org"]},
    "HTML": {"content_subtype": "html"},
}


def build(changes: dict) -> EmailMessage:
    changes = dict(changes)
    subtype = changes.pop("content_subtype", None)
    message = reminder(**changes)
    if subtype:
        message.content_subtype = subtype
    return message


@pytest.mark.parametrize("changes", PLAIN.values(), ids=PLAIN.keys())
def test_plain_message_bytes_are_what_django_builds(changes, fixed_date):
    message = build(changes)
    ours = plain_message_bytes(message)
    assert ours is not None
    if "Message-ID" not in message.extra_headers:
        # A fresh id each build, in Django's form; the rest must match.
        ours_parsed = message_from_bytes(ours)
        assert ours_parsed["Message-ID"].startswith("<") and ours_parsed["Message-ID"].endswith(">")
        message.extra_headers["Message-ID"] = ours_parsed["Message-ID"]
        ours = plain_message_bytes(message)
    django = message.message().as_bytes(linesep="\r\n")
    ours_msg, django_msg = message_from_bytes(ours), message_from_bytes(django)
    assert ours_msg.items() == django_msg.items()  # every header, value and order
    assert ours_msg.get_payload() == django_msg.get_payload()
    assert ours == django


@pytest.mark.parametrize("changes", DJANGOS.values(), ids=DJANGOS.keys())
def test_anything_else_is_left_to_django(changes):
    assert plain_message_bytes(build(changes)) is None


def with_attachment() -> EmailMessage:
    message = reminder()
    message.attach("plan.txt", "text", "text/plain")
    return message


def with_html() -> EmailMessage:
    message = EmailMultiAlternatives(
        subject="A reminder",
        body="Hi",
        from_email=FROM,
        to=["robin@example.org"],
        headers={"Message-ID": "<n7@stepwise.notifications>"},
    )
    message.attach_alternative("<p>Hi</p>", "text/html")
    return message


def test_attachments_and_alternatives_are_left_to_django():
    assert plain_message_bytes(with_attachment()) is None
    assert plain_message_bytes(with_html()) is None


SENT = {
    **{f"plain: {k}": (lambda c=c: build(c)) for k, c in PLAIN.items() if c.get("headers") != {}},
    **{f"Django's: {k}": (lambda c=c: build(c)) for k, c in DJANGOS.items()},
    "Django's: an attachment": with_attachment,
    "Django's: HTML alternative": with_html,
}


@pytest.mark.parametrize("make", SENT.values(), ids=SENT.keys())
def test_the_backend_sends_what_djangos_backend_sends(make, smtp_server, fixed_date):
    """Over a real SMTP server: same envelope, same bytes as received (smtplib
    dot-stuffs both, the server un-stuffs both)."""
    for backend in (EmailBackend, SMTPEmailBackend):
        with backend() as connection:
            assert connection.send_messages([make()]) == 1
    django, ours = smtp_server.envelopes
    assert ours == django


def test_plain_messages_skip_the_email_package_and_others_use_it(smtp_server, monkeypatch):
    built = []
    django_message = EmailMessage.message

    def message(self):
        built.append(self.subject)
        return django_message(self)

    monkeypatch.setattr(EmailMessage, "message", message)
    with SMTPEmailBackend() as connection:
        sent = connection.send_messages(
            [reminder(), reminder(subject="Rappel: séance"), reminder(subject="Again")]
        )
    assert sent == 3 and built == ["Rappel: séance"]
    assert [m["Subject"] for m in smtp_server.messages][::2] == ["A reminder", "Again"]
    assert smtp_server.message_ids() == ["<n7@stepwise.notifications>"] * 3


def test_one_connection_for_a_list_and_none_left_open(smtp_server):
    connection = SMTPEmailBackend()
    assert connection.send_messages([reminder(), reminder(body="Hi Zoë"), reminder()]) == 3
    assert connection.connection is None  # opened for the call, closed after it
    assert len(smtp_server) == 3


def test_the_cached_envelope_sender_is_djangos(smtp_server):
    sender = "Clinic Team <no-reply@example.org>"
    with SMTPEmailBackend() as connection:
        connection.send_messages([reminder(from_email=sender), reminder(from_email=sender)])
    with EmailBackend() as connection:
        connection.send_messages([reminder(from_email=sender)])
    assert [e[0] for e in smtp_server.envelopes] == ["no-reply@example.org"] * 3
