from django.apps import AppConfig


class WixEmulatorConfig(AppConfig):
    name = "wixemulator"
    verbose_name = "Wix emulator"
