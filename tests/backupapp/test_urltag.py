"""backupapp/urltag.py: `{% url %}` gives exactly what Django's reverse gives, reversing each
pattern once; anything it cannot do safely goes through Django's own tag."""

import uuid

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse, set_script_prefix

from backupapp import urltag


def render(text: str, **context) -> str:
    return Template(text).render(Context(context))


def test_urls_with_ids_equal_reverses_and_differ_per_id():
    urltag._patterns.clear()
    site, snapshot = uuid.uuid4(), uuid.uuid4()
    for _ in range(2):  # the second time from the kept pattern
        assert render("{% url 'sites:site' s %}", s=site) == reverse("sites:site", args=[site])
        assert render("{% url 'sites:snapshot_download' s n %}", s=site, n=snapshot) == reverse(
            "sites:snapshot_download", args=[site, snapshot]
        )
        assert render("{% url 'sites:dashboard' %}") == reverse("sites:dashboard")
    assert urltag._patterns[("sites:site", 1, None, "/", "backupapp.urls")] is not None
    other = uuid.uuid4()
    assert render("{% url 'sites:site' s %}", s=other) == reverse("sites:site", args=[other])
    assert render("{% url 'sites:site' s %}", s=str(other)) == reverse("sites:site", args=[other])


def test_what_it_cannot_do_safely_is_djangos():
    site = uuid.uuid4()
    # A collection id (not a UUID) is quoted by Django's reverse.
    assert render("{% url 'sites:snapshot_csv' s n c %}", s=site, n=site, c="Stores/Pro ducts") == (
        reverse("sites:snapshot_csv", args=[site, site, "Stores/Pro ducts"])
    )
    assert render("{% url 'sites:site' site_id=s %}", s=site) == reverse(
        "sites:site", kwargs={"site_id": site}
    )
    # Not a UUID as Django writes one: refused as Django refuses it.
    with pytest.raises(NoReverseMatch):
        render("{% url 'sites:site' s %}", s=str(site).upper())
    with pytest.raises(NoReverseMatch):
        render("{% url 'sites:no-such-page' s %}", s=site)


def test_as_variable_and_autoescape():
    site = uuid.uuid4()
    assert (
        render("{% url 'sites:site' s as u %}[{{ u }}]", s=site)
        == f"[{reverse('sites:site', args=[site])}]"
    )
    assert render("{% url 'sites:no-such-page' s as u %}[{{ u }}]", s=site) == "[]"


def test_a_script_prefix_is_part_of_the_kept_pattern():
    site = uuid.uuid4()
    plain = render("{% url 'sites:site' s %}", s=site)
    set_script_prefix("/backups/")
    try:
        assert render("{% url 'sites:site' s %}", s=site) == "/backups" + plain
    finally:
        set_script_prefix("/")
    assert render("{% url 'sites:site' s %}", s=site) == plain


def test_a_request_in_the_context_is_read_for_its_namespace(rf: RequestFactory):
    request = rf.get("/")
    site = uuid.uuid4()
    assert render("{% url 'sites:site' s %}", s=site, request=request) == reverse(
        "sites:site", args=[site]
    )
