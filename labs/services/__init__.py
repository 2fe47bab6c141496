"""Writes for lab results in, one module per sub-domain: ``inbound`` (receiving a
message, storing it, applying its results through drugtests), ``review`` (what staff do
with a message that waits: match it to a specimen, try it again, close it) and ``setup``
(the code table and the laboratories' interfaces and tokens).

Each is atomic and writes its audit row in the same transaction. Callers import from
the module that defines a name; this package re-exports nothing.
"""
