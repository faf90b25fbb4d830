# journeybot in a container: `docker build -t journeybot .`, then see compose.yaml and README
# ("Deployment"). The image runs any journeybot subcommand: `telegram` by default,
# `docker run … journeybot db upgrade`, `slack`, `web`.

# -- build: journeybot and its dependencies in a virtual environment --------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The project as pip installs it: metadata, the pinned versions (requirements.lock is used as
# constraints, so the dev tools it also pins are not installed) and the five packages.
COPY pyproject.toml requirements.lock README.md ./
COPY app ./app
COPY bot ./bot
COPY handlers ./handlers
COPY prompts ./prompts
COPY store ./store
RUN python -m venv /opt/journeybot \
    && /opt/journeybot/bin/pip install --constraint requirements.lock .

# -- run: the same slim base, the virtual environment, no build files, no root ----------------
FROM python:3.11-slim
ENV PATH=/opt/journeybot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --system --gid 10001 journeybot \
    && useradd --system --uid 10001 --gid journeybot --create-home --home-dir /home/journeybot --shell /usr/sbin/nologin journeybot
COPY --from=build /opt/journeybot /opt/journeybot
USER journeybot
WORKDIR /home/journeybot
# 8443: `journeybot telegram` webhook (TELEGRAM_WEBHOOK_PORT); 3000: `journeybot slack` over HTTP
# (PORT); 8080: `journeybot web`, the survey page (JOURNEYBOT_WEB_PORT).
EXPOSE 8443 3000 8080
# Every long-running command also serves /healthz, /readyz and /metrics on a small listener of its
# own at JOURNEYBOT_HEALTH_PORT (README, "Health, metrics, logs and stopping"); the image has no
# curl, so Python asks. A one-shot `journeybot db upgrade` exits before the first check.
ENV JOURNEYBOT_HEALTH_PORT=9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9000/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["journeybot"]
CMD ["telegram"]
