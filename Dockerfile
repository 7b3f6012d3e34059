# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
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
# collectstatic needs settings, not secrets: a throwaway key for this one command.
RUN DJANGO_SECRET_KEY=collectstatic-only SECRETS_ENCRYPTION_KEYS=ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleWZha2U= \
    python manage.py collectstatic --noinput \
    && useradd --system --home /app app && mkdir -p /app/var && chown app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "backupapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
