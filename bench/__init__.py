"""Benchmarks (``make bench``) and what they need from Django: the scale seeders and the
``seed_scale`` command (``bench.scale``), and the floor view. None of it ships with
Stepwise: it is installed only by ``bench.settings``, which the benchmark scripts select
with DJANGO_SETTINGS_MODULE."""
