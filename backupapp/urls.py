from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The emulator answers Wix's own paths below /sandbox/, so "<server>/sandbox" is a drop-in
    # base URL for https://www.wixapis.com.
    path("sandbox/", include("wixemulator.urls")),
    path("", include("sites.urls")),
]
