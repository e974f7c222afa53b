"""Errors the service turns into 4xx answers (kept import-light for the command line)."""

__all__ = ["StoreError"]


class StoreError(ValueError):
    """A request the ledger refuses (unknown id, illegal status move); message for staff."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status
