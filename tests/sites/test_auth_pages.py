"""Signing in and out and changing the password: Django's auth views with our templates."""

from django.urls import reverse

from tests.factories import PASSWORD


def test_sign_in_page_is_styled_and_signs_the_owner_in(client, owner):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "<h1>Sign in</h1>" in page.text and "app.css" in page.text
    answer = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused_in_words(client, owner):
    answer = client.post(reverse("login"), {"username": "owner", "password": "not-it"})
    assert answer.status_code == 200
    assert "Please enter a correct username and password" in answer.text
    assert client.get("/").status_code == 302


def test_sign_in_returns_to_the_page_first_asked_for(client, owner, site):
    wanted = reverse("sites:site", args=[site.pk])
    answer = client.post(
        reverse("login") + f"?next={wanted}",
        {"username": "owner", "password": PASSWORD, "next": wanted},
    )
    assert answer["Location"] == wanted


def test_sign_out_is_a_post_that_ends_the_session(owner_client):
    assert owner_client.get(reverse("logout")).status_code == 405
    answer = owner_client.post(reverse("logout"))
    assert answer.status_code == 200 and "You are signed out" in answer.text
    assert owner_client.get("/").status_code == 302


def test_every_page_offers_sign_out_as_a_form(owner_client):
    html = owner_client.get("/").text
    assert f'<form class="signout" method="post" action="{reverse("logout")}">' in html


def test_change_password(owner_client, owner):
    page = owner_client.get(reverse("password_change"))
    assert page.status_code == 200 and "Change your password" in page.text
    answer = owner_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-passphrase-42",
            "new_password2": "a-much-better-passphrase-42",
        },
    )
    assert answer.status_code == 302
    assert "Password changed" in owner_client.get(answer["Location"]).text
    owner.refresh_from_db()
    assert owner.check_password("a-much-better-passphrase-42")


def test_change_password_shows_form_errors(owner_client, owner):
    answer = owner_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert answer.status_code == 200
    assert "Your old password was entered incorrectly" in answer.text
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_forgotten_passwords_go_through_the_administrator(client):
    page = client.get(reverse("password_reset"))
    assert "Ask the administrator" in page.text
    assert "<form" not in page.text.split("<main", 1)[1]
