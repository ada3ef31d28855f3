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


class OverpaymentNotConfirmed(UserError):
    """A counter payment would leave more than the agency's limit as a credit for the refund queue and the
    call did not say the clerk confirmed it; the screen asks once, naming the refund, and posts again."""

    def __init__(self, message: str, *, overpaid_cents: int, owed_cents: int, currency: str) -> None:
        super().__init__(message)
        self.overpaid_cents = overpaid_cents
        self.owed_cents = owed_cents
        #: the office's, in which the amounts are (the question names the refund in it)
        self.currency = currency
