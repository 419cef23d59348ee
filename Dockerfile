FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=sleekbatch.settings \
    SLEEKBATCH_VAR_DIR=/app/var
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files (admin, API docs, dashboard) collected into the image; whitenoise serves them.
RUN python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin sleekbatch \
    && mkdir -p /app/var && chown -R sleekbatch /app/var
# Every process runs unprivileged; it writes only under /app/var.
USER sleekbatch
