"""Contingency management's receivers for lower apps' signals (drugtests never imports
contingency)."""

from __future__ import annotations


def connect() -> None:
    # Filled in by the ledger work: drugtests.signals.selection_outcome_changed -> on
    # commit, contingency.tasks.cm_selections_evaluate.delay(ids).
    return None
