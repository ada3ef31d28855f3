class UserError(Exception):
    """An error the user can act on; str() is a message written for a clerk."""
