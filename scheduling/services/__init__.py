"""Writes for scheduling, one module per sub-domain: ``series`` and ``materialization``
(weekly series and the dated sessions made from them), ``site_holidays``, ``bookings``
(individual sessions, moves, cancellations), ``attendance`` and ``calendar_feed``.

Every function is keyword-only and atomic, validates its input (``ValidationError``
with field names the forms show) and writes its audit row in the same transaction.
Time-dependent functions take ``now``. Callers import from the module that defines a
name; this package re-exports nothing, so each name has one import path (and one
target to patch).
"""
