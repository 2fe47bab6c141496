from django.dispatch import Signal

# Sent inside the transaction of a daily draw, once its selections are written (in bulk,
# so no post_save fires for them). Receivers must act on commit only.
draw_completed = Signal()  # kwargs: draw

# Sent inside the transaction of any write that can change what a test counts as: a
# result (a cup's, or a lab's confirming or overturning it), an invalid specimen, a
# refusal, a missed deadline. Contingency management re-evaluates those tests on commit.
selection_outcome_changed = Signal()  # kwargs: selection_ids (list[int])
