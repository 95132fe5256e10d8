# syntax=docker/dockerfile:1
# Multi-stage: build a virtualenv with the project, then copy it into a slim runtime image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The dependencies first, from the lock with every file's hash checked (uv only exports it),
# so this layer is cached until pyproject.toml or uv.lock changes.
COPY pyproject.toml uv.lock ./
RUN pip install uv==0.13.10 \
    && uv export --frozen --no-emit-project --format requirements-txt -o /tmp/requirements.txt \
    && pip install --require-hashes -r /tmp/requirements.txt \
    && pip uninstall --yes uv
COPY README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-deps .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/conflictdb conflictdb
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/conflictdb
COPY alembic.ini ./
COPY migrations ./migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CONFLICTDB_ENVIRONMENT=production \
    CONFLICTDB_MIGRATE_ON_START=false \
    CONFLICTDB_DEMO=false \
    FORWARDED_ALLOW_IPS=127.0.0.1
# Behind a reverse proxy, set FORWARDED_ALLOW_IPS to the proxy's address (never "*": anyone
# could then claim any address): uvicorn then takes the client's address from the proxy's
# X-Forwarded-For, and anonymous clients get a rate-limit bucket each instead of sharing the
# proxy's.
USER conflictdb
EXPOSE 8000
# /healthz runs SELECT 1 on the database: unhealthy when the database is unreachable.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Migrations are their own step, before the server starts; with several replicas run
# `conflictdb migrate` once as a job instead and start the containers with `serve` only.
# The app writes its own access log (one JSON line per request): uvicorn's is off. With
# several workers use `conflictdb serve --workers N` (metrics of all workers, docs/scaling.md).
CMD ["sh", "-c", "conflictdb migrate && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --proxy-headers --no-access-log"]
