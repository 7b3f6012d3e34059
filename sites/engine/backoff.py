"""How long to wait before trying again: one rule for operations and alert deliveries."""

from datetime import timedelta

from celery.utils.time import get_exponential_backoff_interval


def backoff(attempts: int, error: Exception | None = None) -> timedelta:
    delay = get_exponential_backoff_interval(
        factor=2, retries=max(attempts - 1, 0), maximum=300, full_jitter=True
    )
    delay = max(delay, 1)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        delay = max(delay, min(float(retry_after), 300))
    return timedelta(seconds=delay)
