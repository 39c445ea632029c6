"""Errors meant for the user: one line, no traceback."""


class UserError(Exception):
    """Something the user can fix (bad file, bad option). Exit code 2 unless said otherwise."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code
