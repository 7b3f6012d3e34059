# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm

# STATIC_ROOT outside VAR_DIR: /app/var is a volume (the keys), and static files belong to the
# image, so a new image serves its own rather than those a volume kept from an older one.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var STATIC_ROOT=/app/staticfiles
WORKDIR /app

COPY pyproject.toml README.md ./
COPY backupapp ./backupapp
COPY sites ./sites
COPY wixapi ./wixapi
COPY wixemulator ./wixemulator
RUN pip install --no-cache-dir .

COPY manage.py ./
COPY scripts ./scripts
COPY templates ./templates
COPY static ./static
# collectstatic needs settings, not secrets: a throwaway key for this one command. The emulator
# on, so its files are there too when a deployment turns it on.
RUN DJANGO_SECRET_KEY=collectstatic-only SECRETS_ENCRYPTION_KEYS=ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleWZha2U= \
    WIXEMULATOR_ENABLED=1 python manage.py collectstatic --noinput \
    && useradd --system --home /app app && mkdir -p /app/var && chown app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "backupapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
