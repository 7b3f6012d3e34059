from django.urls import path
from django.views.generic import RedirectView

app_name = "sites"

urlpatterns = [
    # Until the owner's dashboard lands, the front page leads to the emulator's data browser.
    path("", RedirectView.as_view(pattern_name="wixemulator:home"), name="home"),
]
