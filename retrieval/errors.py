"""Errors of the retrieval stage that the user can fix."""
from core.errors import LocalGPTError


class SearchOptionError(LocalGPTError):
    """An unknown search mode, a malformed --where filter, or the like."""
