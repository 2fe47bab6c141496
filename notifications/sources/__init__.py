"""The reminder sources. Each module registers its ``ReminderSource`` with
``notifications.registry`` when imported; ``NotificationsConfig.ready()`` imports this
package. Sources are independent of each other: the order they run in does not matter."""

from . import alerts, checkins, digests, draws, homework, medication, meetings, sessions

__all__ = [
    "alerts",
    "checkins",
    "digests",
    "draws",
    "homework",
    "medication",
    "meetings",
    "sessions",
]
