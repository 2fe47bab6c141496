FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
# collectstatic serves no request and signs nothing: STEPWISE_OFFLINE lets it run without
# a secret (the real one is given at run time only).
# Optional extras, e.g. --build-arg EXTRAS=sentry for error reporting (SENTRY_DSN).
ARG EXTRAS=""
# gettext's msgfmt builds the Spanish catalogue (.mo files are not committed).
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}" \
    && DEBUG=0 STEPWISE_OFFLINE=1 python manage.py collectstatic --noinput \
    && DEBUG=0 STEPWISE_OFFLINE=1 python manage.py compilemessages --ignore=.venv
RUN useradd --create-home stepwise && mkdir -p /app/var /data/private \
    && chown stepwise /data/private /app/var
USER stepwise
EXPOSE 8000
