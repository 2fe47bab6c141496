"""Forms of the staff screens. Services re-check every rule; forms give the early,
field-level message and limit choices to the patient's site.

One module per screen family, mirroring ``patients.services`` (``patient``,
``admission``, ``enrollment``, ``scheduled_changes``, ``medication``, ``consents``) plus
``caseload``; ``_common`` holds the widgets and helper they share. Nothing is
re-exported here: callers import each form from its module.
"""
