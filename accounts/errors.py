"""Errors of account management and login, with what to do about them."""

from core.errors import LocalGPTError


class AccountError(LocalGPTError):
    """A user, group, folder or key that is not there, or a name or password that cannot be used."""


class NotAllowed(LocalGPTError):
    """The caller may not do this (a search-only key asking, a non-admin managing users)."""

    http_status = 403


class LoginRefused(LocalGPTError):
    """No valid credentials: a wrong password, an expired session, a revoked key."""

    http_status = 401


class TooManyAttempts(LocalGPTError):
    """Too many failed logins from one address or for one user, lately."""

    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
