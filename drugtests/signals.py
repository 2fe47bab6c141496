from django.dispatch import Signal

# Sent inside the transaction of a daily draw, once its selections are written (in bulk,
# so no post_save fires for them). Receivers must act on commit only.
draw_completed = Signal()  # kwargs: draw
