from django.conf import settings
from django.db import models


class AlertDismissal(models.Model):
    """A staff member dismissed an alert, before alerts were rows (``alerts.Alert``, which
    staff acknowledge or snooze with a reason). Nothing writes it any more; the table
    keeps the dismissals made until then, as the audit trail does.
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
