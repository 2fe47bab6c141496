"""Signals the notifications app sends to its own upper layer.

``preferences_updated`` lets the preference service (low in the app) ask for a re-plan
without importing the planning or the tasks above it: ``receivers`` connects it.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``patient_id`` once a patient's preferences were saved (inside the write's
# transaction; the receiver defers its work to the commit).
preferences_updated = Signal()
