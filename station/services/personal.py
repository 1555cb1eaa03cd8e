"""The one accessor for personal numbers stored on a case.

Every read and write of an ID or phone number goes through here, so that encryption at rest
(DESIGN.md, "trust") is one change in this module. Today the stored form is the plain value;
`seal`/`unseal` are where the cipher goes.
"""

from __future__ import annotations

from rules.privacy import mask_id_number, mask_phone


def seal(value: str) -> str:
    """Turn a personal number into its stored form."""
    return value


def unseal(stored: str) -> str:
    """Turn a stored personal number back into the number."""
    return stored


def applicant_id_number(case) -> str:  # noqa: ANN001 - a Case row
    return unseal(case.applicant_id_stored)


def applicant_phone(case) -> str:  # noqa: ANN001
    return unseal(case.applicant_phone_stored)


def proxy_id_number(case) -> str:  # noqa: ANN001
    return unseal(case.proxy_id_stored)


def proxy_phone(case) -> str:  # noqa: ANN001
    return unseal(case.proxy_phone_stored)


def collector_id_number(case) -> str:  # noqa: ANN001
    """The ID number of whoever collected the result at the window (issue 19), or ""."""
    return unseal(case.collector_id_stored) if case.collector_id_stored else ""


def masked(case) -> dict[str, str]:  # noqa: ANN001
    """The masked numbers a list, a screen or a log may show."""
    return {
        "applicant_id": mask_id_number(applicant_id_number(case)),
        "applicant_phone": mask_phone(applicant_phone(case)),
        "proxy_id": mask_id_number(proxy_id_number(case)),
        "proxy_phone": mask_phone(proxy_phone(case)),
    }
