"""Errors the user can act on (a bad file, a refused rule), kept apart from bugs."""


class UserError(Exception):
    """An error the user can act on; str() is a message written for a clerk."""
