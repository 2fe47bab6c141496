from django.conf import settings
from django.db import models


class AlertDismissal(models.Model):
    """A staff member set an alert aside (it stays in the record, and in the audit trail).

    Alerts themselves are computed from the data and disappear when the data resolves
    them (attendance recorded, injection given, homework accepted...). A dismissal hides
    one occurrence, identified by its key, for one user.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=120)
    note = models.CharField(max_length=200, blank=True)
    dismissed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="alert_dismissed_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} dismissed by {self.user_id}"
