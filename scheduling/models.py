from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import Site
from patients.models import ProgramLevel


class TrackKind(models.TextChoices):
    DAY = "day", "Day track"
    EVENING = "evening", "Evening track"


class Track(models.Model):
    """A cohort's weekly programme at one site, e.g. the IOP evening track."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=TrackKind.choices)
    level = models.CharField(max_length=3, choices=ProgramLevel.choices)
    default_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    room = models.CharField(max_length=80, blank=True)
    video_link = models.URLField(blank=True)
    capacity = models.PositiveSmallIntegerField(default=12)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="track_name_unique_per_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="track_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name
