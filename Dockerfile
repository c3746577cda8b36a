# The portal's image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH"

# WeasyPrint's libraries for Debian: Pango, PangoFT2 and HarfBuzz subset (without it
# WeasyPrint subsets fonts with fontTools, slow on the large CJK fonts, and later
# versions require it); Noto CJK so Traditional Chinese renders; curl for the web
# health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk curl \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-key-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 CELERY_BROKER_URL=memory:// EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput

# Run as an unprivileged user. The volume mount points exist here, owned by that user,
# so Docker gives new named volumes (media, beat schedule) the same owner.
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin portal \
    && mkdir -p /data/media /data/beat \
    && chown portal:portal /data/media /data/beat
USER portal

EXPOSE 8000
# Gunicorn reads its worker count from WEB_CONCURRENCY. A sync worker holds a file
# download for its whole transfer, so the timeout is well above the 30 s default;
# the heartbeat files go to memory, not the container's overlay filesystem.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "anticorruption.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "120", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
