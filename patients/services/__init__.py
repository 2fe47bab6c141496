"""Writes for patients and enrollments.

Every function is atomic, validates its input (raising ``ValidationError`` with
field names the forms can show), appends the history row, keeps the track roster in
step and writes its audit row, all in one transaction.

Callers import each service from the module that defines it (nothing is re-exported
here, so a name has one address):

- ``patient``: demographics and the portal account;
- ``admission``: intake and re-admission;
- ``enrollment``: level, track, phase, counselor, hold, resume and discharge;
- ``scheduled_changes``: applying and cancelling changes dated ahead;
- ``medication``: medication-assisted treatment orders;
- ``consents``: 42 CFR Part 2 consents;
- ``errors``: ``ConcurrentEditError``.

``_common`` (locking, history, audit, roster, checks) and ``_deferral`` (holding a
dated change until its date) are the helpers they share.
"""
