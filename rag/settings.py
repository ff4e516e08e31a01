"""The one settings object of the product (environment prefix ``CTN_``, ``.env`` supported).

Every component reads its configuration from here so that one place documents what can be changed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CTN_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    corpus_dir: Path = Path("./corpus")
    chroma_url: str | None = None
    collection: str = "ctn_chunks"
    embedding_model: str | None = Field(
        default=None, description="sentence-transformers name or path; unset: the packaged all-MiniLM-L6-v2"
    )
    embedding_batch_size: int = 32
    torch_threads: int | None = None
    max_file_mb: float = 50.0
    chunk_max_tokens: int = 200
    """Budget for a chunk's own text; the title line is added on top, and the total never passes
    the model's limit."""

    llm: Literal["extractive", "openai"] = "extractive"
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout_s: float = 60.0
    reranker_model: str | None = None

    admin_api_key: str | None = None
    database_url: str | None = None
    index_refresh_s: float = 2.0
    chroma_timeout_s: float = 5.0

    max_question_chars: int = 1000
    max_history_turns: int = 20
    max_upload_files: int = 20
    cors_origins: list[str] = []

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "keyword"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'ctn.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
