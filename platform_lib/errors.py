"""User-facing errors: what went wrong, where, and how to fix it.

A ``MeshError`` is raised for mistakes a user can fix (a missing landing folder, a bad header, an
unknown domain). The command line prints it as one line and exits non-zero, never as a traceback.
"""


class MeshError(Exception):
    """A problem the user can fix, with the thing it concerns and the fix.

    Args:
        message: What went wrong, naming the file, table or setting concerned.
        fix: One sentence telling the user what to do about it.
    """

    def __init__(self, message: str, *, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})"
