from django.dispatch import Signal

# Sent inside the transaction that changes a patient's track roster, with the first
# day the change applies to. Scheduling refreshes rosters of sessions from that day
# on; earlier sessions and their attendance are never touched.
track_membership_changed = Signal()  # kwargs: enrollment, effective_date
