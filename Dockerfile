# syntax=docker/dockerfile:1
# Coveris API image: Python 3.13, dependencies exactly as locked in uv.lock, served by granian (ASGI)
# with the production settings. Build:  docker build -t coveris .
# Run:    docker run -p 8000:8000 --env-file prod.env coveris   (variables: .env.example)
# Migrations are not applied by the image's command; run them once per release, before traffic:
#         docker run --rm --env-file prod.env coveris python manage.py release_migrate
# (as the tables' owner when DATABASE_OWNER_URL is set, then the app role's grants: docs/stack/deployment.md)

ARG PYTHON_IMAGE=python:3.13-slim

# --- build: resolve nothing, install the lock, collect static files ------------------------------
FROM ${PYTHON_IMAGE} AS build

# uv from PyPI, pinned to the version that wrote uv.lock.
ARG UV_VERSION=0.13.9
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install "uv==${UV_VERSION}"

WORKDIR /app

# Dependencies first (their own layer, reused while pyproject.toml and uv.lock are unchanged).
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev \
    && /app/.venv/bin/python -m compileall -q apps backend config

# collectstatic needs the production settings to load, and they refuse to without their essentials:
# give it throw-away values that exist only for this command (nothing connects to that database).
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_SECRET_KEY="build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz" \
    DATABASE_URL="postgres://build:build@127.0.0.1:5432/build" \
    DJANGO_ALLOWED_HOSTS="build.invalid" \
    PYTHON_DOTENV_DISABLED=1 \
    /app/.venv/bin/python manage.py collectstatic --noinput --verbosity 1

# --- runtime: the same base image, the built /app, an unprivileged user ---------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/app/.venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    TRUSTED_PROXIES="10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16"

RUN groupadd --system --gid 10001 coveris \
    && useradd --system --uid 10001 --gid coveris --no-create-home --home-dir /app --shell /usr/sbin/nologin coveris

WORKDIR /app
# Owned by root and read-only for the app user: the running process cannot rewrite its own code.
COPY --from=build /app /app

USER coveris:coveris
EXPOSE 8000

# Liveness only (/healthz does not touch the database). The Host header must be an allowed host,
# so the probe uses the first entry of DJANGO_ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.').replace('*', '') or 'localhost'; r.urlopen(r.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': h}), timeout=4)"]

# The production server (docs/adr/0018-production-server.md): granian with WEB_CONCURRENCY worker processes on
# $PORT. `serve --production` loads the settings (failing fast on a missing essential), then exec()s granian, which
# receives SIGTERM (requests in flight get 20 s). Migrations are a release step (see above).
# bin/with-worker: the job-queue worker (every queue: plans, the nightly audit walk, session pruning; ADR 0015)
# runs beside the server; signals reach both.
CMD ["bin/with-worker", "python", "manage.py", "serve", "--production", "--no-migrate", "--host", "0.0.0.0"]
