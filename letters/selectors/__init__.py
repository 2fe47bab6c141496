"""Reads for letters and the patient's record: ``sections`` (what a compliance letter
reports), ``record`` (the patient's own record), ``access`` (getters that 404 and audit)."""
