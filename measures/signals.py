"""Signals measures sends; higher apps connect to them in their ``AppConfig.ready()``.

- ``safety_event_raised``: an answer needs the same-day safety workflow (PHQ-9 item 9
  above 0). Argument: ``safety_event``. Sent inside the completing transaction; a receiver
  acts on commit (notifications may page the owner).
- ``administration_completed``: a sitting was completed and scored. Argument:
  ``administration``. Sent inside the transaction.
"""

from __future__ import annotations

from django.dispatch import Signal

safety_event_raised = Signal()
administration_completed = Signal()
