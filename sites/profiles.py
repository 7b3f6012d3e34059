"""People's preferences."""

from django.contrib.auth.models import AbstractBaseUser

from . import engine
from .models import Profile


def profile_set_time_zone(*, user: AbstractBaseUser, time_zone: str) -> None:
    """Remember the zone the owner's pages show times in ("" for the installation's zone)."""
    # Imported here so that this addition touches nothing above it in this shared module.

    Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    # Schedules run at a time of the owner's day: their next runs follow the new zone.
    engine.schedules_replan(owner=user)
