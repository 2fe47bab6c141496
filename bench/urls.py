"""Stepwise's URLs plus the benchmark's floor (bench.settings only)."""

from django.urls import path

from bench.views import floor, floor_signed_in
from clinic.urls import handler403, handler404, handler500
from clinic.urls import urlpatterns as clinic_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    # The benchmark's floor: the cheapest response this stack can serve, measured in the
    # same run as the real pages.
    path("bench/floor", floor, name="bench_floor"),
    path("bench/floor-signed-in", floor_signed_in, name="bench_floor_signed_in"),
    *clinic_urlpatterns,
]
