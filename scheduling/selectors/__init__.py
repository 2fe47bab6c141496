"""Reads for scheduling, one module per sub-domain: ``access`` (what a user may see),
``rosters``, ``sessions``, ``calendar`` (holidays and feeds), ``hours`` (weekly hours
compliance), ``billing`` and ``streaks`` (absences in a row).

Rosters are computed from ``patients.TrackMembership`` (effective-dated, site-local
dates) rather than copied: a session's roster is every membership of its track that
covers the session's local date, plus anyone who already has attendance recorded
there (so a later retroactive change never hides attendance that was taken).
Each function here runs a fixed number of queries whatever the data size. Callers
import from the module that defines a name; this package re-exports nothing.
"""
