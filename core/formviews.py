"""One shape for the service-backed form pages, and the one safe ``next`` redirect.

A page that changes data does four things: fetch what it works on through an
access-checking getter (404 plus audit row for the rest), bind its form, hand the
cleaned data to a service, and redirect with a message, or show the service's
``ValidationError`` on the form. ``ServiceFormView`` holds that sequence so each
page states only its getter, form, service call, message and destination.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic.edit import FormView

from .access import UserRequest
from .forms import add_service_errors

if TYPE_CHECKING:
    # Generic only in django-stubs; at run time FormView takes no type argument.
    _FormView = FormView[forms.BaseForm]
else:
    _FormView = FormView


def safe_next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` the form carried (POST, else query string) if it is a path on this
    site, else ``default``: an open redirect would let a crafted link bounce staff to
    a look-alike login page.

    Only a path (``/...``) is kept. ``redirect()`` looks any value without a slash or a
    dot up as a URL name, so ``-1`` or an emoji, harmless to the host check, raised
    ``NoReverseMatch`` (a 500) in the view that redirected to it."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return safe_path(request, target) or default


def safe_path(request: HttpRequest, target: str) -> str | None:
    """``target`` if it is a path on this site (the rule ``safe_next_url`` applies), else
    None."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


class ServiceFormView(_FormView):
    """GET shows the form; POST binds it, calls ``perform`` and redirects on success.

    Subclasses set ``form_class`` and ``template_name``, load their objects in
    ``load`` and call the service in ``perform``; the service's result is
    ``self.result`` when ``get_success_message`` and ``get_success_url`` run. A form may
    name ``error_fields`` (service argument -> form field) for errors whose names
    differ. Wrap ``as_view()`` in the access decorator of ``core.access``.
    """

    # as_view() is always wrapped in an access decorator, so the user is signed in.
    request: UserRequest
    # Status of a page re-shown with errors; some screens answer 422 so htmx and the
    # tests can tell a refused post from a first view.
    error_status: int = 200
    success_message: str = ""
    result: Any = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The access check runs before any form is built, whatever the method.
        early = self.load(**kwargs)
        if early is not None:
            return early
        return super().dispatch(request, *args, **kwargs)

    def load(self, **kwargs: Any) -> HttpResponse | None:
        """Fetch the objects the page works on; a response returned here is sent as is."""
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"initial": self.get_initial(), "prefix": self.get_prefix()}
        # An empty POST shows the blank form again rather than a page of "required"
        # errors, as these pages did when each one bound ``request.POST or None``.
        if self.request.method == "POST" and self.request.POST:
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        return kwargs

    def perform(self, form: Any) -> Any:
        """Call the service with the form's cleaned data; return what it returns."""
        raise NotImplementedError

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            self.result = self.perform(form)
        except ValidationError as exc:
            add_service_errors(form, exc, getattr(form, "error_fields", None))
            return self.form_invalid(form)
        message = self.get_success_message()
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form: forms.BaseForm) -> HttpResponse:
        status = self.error_status if form.errors else 200
        return self.render_to_response(self.get_context_data(form=form), status=status)

    def get_success_message(self) -> str:
        return self.success_message
