"""Writes for recovery work, one module per sub-domain: ``meetings``, ``twelve_step``
(sponsor and steps) and ``homework``.

Every function is keyword-only and atomic, validates its input (ValidationError
with the form's field names), and writes its audit row in the same transaction.
Uploaded files are checked before anything is written; a file written for a
transaction that then rolls back is left unreferenced (never served) rather than
removed, since removal cannot be made part of the transaction. Callers import from the
module that defines a name; this package re-exports nothing.
"""
