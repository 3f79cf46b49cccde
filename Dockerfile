# The production image: web, worker and beat run from it with different commands.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/data

# Pango and fonts for WeasyPrint's PDF letters; curl for the healthcheck.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY campaign ./campaign
COPY contacts ./contacts
COPY letters ./letters
COPY workers ./workers
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip install -e . && useradd --create-home --uid 10001 cosign && mkdir -p /data && chown cosign /data

USER cosign
VOLUME ["/data"]
EXPOSE 8000
CMD ["campaign", "web", "--host", "0.0.0.0", "--port", "8000"]
