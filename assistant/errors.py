"""Error hierarchy of the project.

Every error the core raises on purpose derives from :class:`AssistantError`. The edges convert
them: the API into JSON errors with a status code, the CLI into a one-line message and a non-zero
exit. Each error carries the context a user needs to act on it.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Root of all project errors. ``status`` is the HTTP status the API maps it to."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            **{k: str(v) for k, v in self.context.items()},
        }


class ConfigurationError(AssistantError):
    """Settings are inconsistent or unsafe."""

    status = 500
    code = "configuration_error"


class IngestionError(AssistantError):
    """A file could not be turned into a document (empty, corrupt, unsupported, undecodable)."""

    status = 422
    code = "ingestion_error"


class UnsupportedFileType(IngestionError):
    code = "unsupported_file_type"


class EmptyDocument(IngestionError):
    code = "empty_document"


class CorruptFile(IngestionError):
    code = "corrupt_file"


class ManifestError(IngestionError):
    code = "manifest_error"


class StoreError(AssistantError):
    """The index (Chroma) failed or is in an unexpected state."""

    status = 500
    code = "store_error"


class StoreUnavailable(StoreError):
    """The index cannot be reached (dead Chroma server, unreadable data directory)."""

    status = 503
    code = "store_unavailable"


class EmbedderMismatch(StoreError):
    """The index was built by another embedder than the one configured now."""

    status = 409
    code = "embedder_mismatch"


class DocumentNotFound(StoreError):
    status = 404
    code = "document_not_found"


class EmbedderError(AssistantError):
    """The embedding backend could not be loaded or failed."""

    status = 503
    code = "embedder_error"


class GeneratorError(AssistantError):
    """The answer generator (e.g. the LLM endpoint) failed or timed out."""

    status = 502
    code = "generator_error"


class GeneratorTimeout(GeneratorError):
    status = 504
    code = "generator_timeout"


class BadRequest(AssistantError):
    status = 400
    code = "bad_request"
