"""The two kinds of error: those a user can act on, and bugs (everything else)."""


class UserError(Exception):
    """An error the user can act on; str() is a message written for a clerk."""


class PermissionDenied(UserError):
    """The acting user's role does not allow this action."""


class NotFound(UserError):
    """A record the user named does not exist."""


class IllegalTransition(UserError):
    """A case move the life-cycle rules do not allow."""


class ConcurrencyConflict(UserError):
    """Someone else changed the record first; the user should reload and try again."""
