from django.dispatch import Signal

# Sent inside the transaction that changes a patient's track roster, with the first
# day the change applies to: the hook for an app above patients that keeps something
# derived from rosters (patients cannot call it). None does today: scheduling reads a
# session's roster from TrackMembership on its date when asked, so earlier sessions and
# their attendance are never touched. A receiver must act on commit only.
track_membership_changed = Signal()  # kwargs: enrollment, effective_date
