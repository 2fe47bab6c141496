import django_stubs_ext

from .celery import app as celery_app

# Django's generic classes (ModelAdmin, QuerySet, ModelForm...) accept type arguments at
# run time, as they do for mypy; done first, before any module that writes ModelAdmin[X].
django_stubs_ext.monkeypatch()

__all__ = ("celery_app",)
