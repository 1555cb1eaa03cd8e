"""Domain errors: services raise these with Chinese messages; views decide how to show them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `message` is shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Several inputs are wrong at once; `errors` maps a form field to its Chinese message."""

    def __init__(self, errors: dict[str, str], message: str = "填写有误，请按提示修改后再保存。") -> None:
        super().__init__(message)
        self.errors = errors


class NotFound(DomainError):
    """The thing asked for does not exist (or is not this station's)."""
