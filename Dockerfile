# Rebound in HTTP mode. Build: docker build -t rebound .
# Run:   docker run --env-file .env -p 3000:3000 rebound
# Migrations as a one-off step: docker run --env-file .env rebound rebound db upgrade
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 rebound

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
# No testkit/: the offline demo and the Slack stand-in are test tooling, run from a checkout
# (./start.sh); the wheel leaves them out too (pyproject.toml's packages.find).
RUN pip install .

USER rebound
EXPOSE 3000
# Structured logs for the log shipper; /healthz for liveness, /readyz for readiness.
ENV LOG_FORMAT=json PORT=3000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
CMD ["rebound", "serve", "--host", "0.0.0.0", "--port", "3000"]
