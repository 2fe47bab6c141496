"""Writes for drug testing, one module per sub-domain: ``random_draw`` (the daily draw
and its corrections), ``collection`` (for-cause orders, specimens, refusals) and
``results`` (results, the missed deadline, alerts).

Each is atomic and writes its audit row in the same transaction. Callers import from
the module that defines a name; this package re-exports nothing.
"""
