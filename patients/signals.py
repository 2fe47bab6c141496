from django.dispatch import Signal

# Sent inside the transaction that changes a patient's track roster, with the first
# day the change applies to. No app keeps a copy of rosters today: scheduling reads
# them from the memberships when it shows a session (scheduling.selectors
# .rosters_for_sessions), so nothing is registered here. It is the hook for an app that
# does keep derived roster state; such a receiver must leave sessions before
# effective_date, and their attendance, untouched.
track_membership_changed = Signal()  # kwargs: enrollment, effective_date
