"""Retrieval and answering: the store both ingest and answering share, retrieval, the answer pipeline."""
