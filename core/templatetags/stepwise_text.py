"""Free text on pages: a long text's preview on list pages, and the limits and counter of
hand-written textareas (``core.limits``; form fields get both from ``core.forms``).

``{% long_text s.text href "submission" s.pk %}`` shows the first ``LIST_PREVIEW`` characters
and, when there is more, a link to all of it (``href#submission-12``), so one long entry
cannot stretch a worklist. ``{% text_limit "NOTE" %}`` gives a limit for a ``maxlength``;
``{% text_counter "NOTE" "comment" s.pk %}`` the "N characters left" line under the
textarea whose id is ``comment-12``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from core import limits
from core.forms import counter_html

register = template.Library()


def _limit(name: str) -> int:
    value = getattr(limits, name)
    assert isinstance(value, int)
    return value


@register.inclusion_tag("core/_long_text.html")
def long_text(text: str | None, href: str, *anchor: object, css: str = "") -> dict[str, Any]:
    text = text or ""
    if anchor:
        href = f"{href}#{'-'.join(str(part) for part in anchor)}"
    cut = len(text) > limits.LIST_PREVIEW
    return {
        "preview": text[: limits.LIST_PREVIEW].rstrip() + "…" if cut else text,
        "cut": cut,
        "length": f"{len(text):,}",
        "href": href,
        "css": css,
    }


@register.simple_tag
def text_limit(name: str) -> int:
    return _limit(name)


@register.simple_tag
def text_counter(name: str, *id_parts: object) -> SafeString:
    return counter_html("-".join(str(part) for part in id_parts), _limit(name))
