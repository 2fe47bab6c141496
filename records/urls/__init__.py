"""The clinical record's routes, one module per area (plans, notes, the clinicians'
queue, group notes and sign-in sheets, the director's record rules), joined under one
namespace."""

from . import groups, notes, plans, queue, settings

app_name = "records"

urlpatterns = [
    *plans.urlpatterns,
    *notes.urlpatterns,
    *groups.urlpatterns,
    *queue.urlpatterns,
    *settings.urlpatterns,
]
