"""`{% url %}` as Django's, with each URL pattern reversed once per process.

A site's page names about twenty URLs, and Django's `reverse` walks the resolver for each at
every view: a fifth of the page's drawing (bench/page_speed.py). This tag reverses a name once
with stand-in ids and then puts the real ids in, for the common case that is safe to do so:
positional arguments that are UUIDs (what every id of ours is), no keyword arguments. Anything
else (keyword arguments, other values, a pattern that refuses the stand-ins) goes through
Django's own tag unchanged. Installed as a template builtin (settings.TEMPLATES), so templates
keep writing `{% url %}`.
"""

import re
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

# How Django writes a UUID in a URL (its uuid converter accepts exactly this).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_patterns: dict[tuple[Any, ...], str | None] = {}


def _stand_in(position: int) -> str:
    return f"00000000-0000-4000-8000-{position:012d}"


def _pattern(view_name: str, count: int, current_app: str | None) -> str | None:
    """The URL of `view_name` with stand-ins for its `count` ids (None: not safe to use)."""
    key = (
        view_name,
        count,
        current_app,
        get_script_prefix(),
        get_urlconf() or settings.ROOT_URLCONF,
    )
    if key not in _patterns:
        try:
            found = reverse(
                view_name, args=[_stand_in(i) for i in range(count)], current_app=current_app
            )
        except NoReverseMatch:
            found = None
        _patterns[key] = found
    return _patterns[key]


def _clear(**_: Any) -> None:
    _patterns.clear()


# Tests that change the URL configuration get fresh patterns.
setting_changed.connect(_clear, dispatch_uid="backupapp.urltag.clear")


class KeptURLNode(defaulttags.URLNode):
    def render(self, context: template.Context) -> str:
        if self.kwargs:
            return super().render(context)
        args = [str(arg.resolve(context)) for arg in self.args]
        if not all(_UUID.match(arg) for arg in args):
            return super().render(context)
        request = context.get("request")
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        pattern = _pattern(self.view_name.resolve(context), len(args), current_app)
        if pattern is None:
            return super().render(context)
        url = pattern
        for position, arg in enumerate(args):
            url = url.replace(_stand_in(position), arg)
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> KeptURLNode:
    node = defaulttags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
