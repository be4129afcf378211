"""Errors whose message already says what to fix."""


class UserError(Exception):
    """Bad input or an unreachable source; the message names the file or config key to fix.

    Job logs show these without a traceback.
    """
