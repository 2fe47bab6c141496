"""Signals the clinical record sends; higher apps connect to them in their
``AppConfig.ready()`` (records never imports them).

- ``signing_code_issued``: a one-time code for a patient to sign their plan at the clinic
  was issued; notifications texts it to the patient. Arguments: ``signing_code`` (the
  ``SigningCode`` row), ``patient``, ``code`` (the plain code: it exists only in this
  call, the row keeps a keyed hash) and ``minutes`` (how long it is valid). Sent inside
  the issuing transaction; a receiver sends on commit.
"""

from __future__ import annotations

from django.dispatch import Signal

signing_code_issued = Signal()
