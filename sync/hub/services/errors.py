"""Domain errors the hub services raise; views turn them into form errors or JSON."""

from __future__ import annotations


class HubError(Exception):
    """A rule was broken; ``message`` is Chinese and fit to show a clerk or a station."""

    code = "hub_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(HubError):
    """The thing asked for does not exist (or is not the caller's to see)."""

    code = "not_found"


class InvalidTransition(HubError):
    """A decision that the case's current status does not allow."""

    code = "invalid_transition"


class ValidationError(HubError):
    """Input that fails validation (missing reason, bad catalog JSON, …)."""

    code = "invalid"


class AttachmentError(HubError):
    """An upload that cannot be taken; ``status`` is the HTTP status the API answers with."""

    code = "attachment_error"

    def __init__(self, message: str, code: str, status: int, **extra: object) -> None:
        super().__init__(message, code)
        self.status = status
        self.extra = extra
