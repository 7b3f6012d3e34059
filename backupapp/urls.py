from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from sites.forms import PasswordChangeForm, SignInForm

# Only the account pages this product offers. Django's e-mailed password reset (its confirm and
# done pages, and a POST that would send mail) is left out: accounts are made and reset by the
# administrator, so those URLs would only be attack surface (docs/security.md).
account_urls = [
    path("login/", auth_views.LoginView.as_view(authentication_form=SignInForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password_change/",
        auth_views.PasswordChangeView.as_view(form_class=PasswordChangeForm),
        name="password_change",
    ),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password_reset/",
        TemplateView.as_view(
            template_name="registration/password_reset_form.html", http_method_names=["get"]
        ),
        name="password_reset",
    ),
]

# The emulator answers Wix's own paths below /sandbox/, so "<server>/sandbox" is a drop-in base URL
# for https://www.wixapis.com. Routed only where it is installed (settings.WIXEMULATOR_ENABLED):
# elsewhere /sandbox/ is a plain 404.
emulator_urls = (
    [path("sandbox/", include("wixemulator.urls"))] if settings.WIXEMULATOR_ENABLED else []
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    *emulator_urls,
    path("", include("sites.urls")),
]
