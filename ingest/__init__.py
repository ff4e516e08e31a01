"""Ingestion: load files, split them by structure, enrich metadata, embed and upsert into the store."""
