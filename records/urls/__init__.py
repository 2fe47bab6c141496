"""The clinical record's routes, one module per area (plans, notes and the clinicians'
queue, group notes and sign-in sheets), joined under one namespace."""

from . import groups, notes, plans, queue

app_name = "records"

urlpatterns = [*plans.urlpatterns, *notes.urlpatterns, *groups.urlpatterns, *queue.urlpatterns]
