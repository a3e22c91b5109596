"""Errors a user can act on. The CLI turns them into one line and its exit code; `serve` into one line
of JSON and its HTTP status."""


class LocalGPTError(Exception):
    """Something the user can fix; the message says what to do."""

    exit_code = 1
    http_status = 400  # a request to fix; a server or an index that is not there to answer says 502/503


class NoIndexError(LocalGPTError):
    """Asked a question before anything was ingested."""

    http_status = 503


class IndexMismatchError(LocalGPTError):
    """The index was built with another embedding model or chunking."""


class ModelLoadError(LocalGPTError):
    """A model file is missing or unreadable."""

    http_status = 503


class SourceError(LocalGPTError):
    """The folder to ingest is missing or holds nothing to ingest."""


class IngestLockedError(LocalGPTError):
    """Another ingest is writing to the same index."""


class SearchOptionError(LocalGPTError):
    """An unknown search mode, a malformed --where filter, or the like."""
