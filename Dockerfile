# syntax=docker/dockerfile:1
# The CRM image: one image for the web server, the Celery workers and beat (compose.yaml
# picks the command). Build: docker build -t crm .   See docs/deploy.md.

# --- Front-end assets from npm (Bootstrap, icons, Chart.js), pinned by package-lock.json.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- The application.
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# postgresql-client: pg_dump/pg_restore for `manage.py backup/restore` (Debian bookworm's
# is version 15: use a PostgreSQL server of version 15 or older, as compose.yaml does).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --shell /usr/sbin/nologin crm

WORKDIR /app
# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN python -m venv /opt/venv && pip install -r requirements.txt

COPY --from=assets /src/node_modules ./node_modules
COPY . .

# Static files collected (hashed names, compressed) into the image at build time; a
# build-only key, since settings refuse to load without one when DEBUG=0.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --no-input \
    && mkdir -p /app/var /run/crm-metrics \
    && chown -R crm:crm /app/var /run/crm-metrics

ENV DEBUG=0 \
    GUNICORN_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/run/crm-metrics \
    LOG_FORMAT=json

USER crm
EXPOSE 8000
VOLUME ["/app/var"]
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "crm.wsgi:application"]
