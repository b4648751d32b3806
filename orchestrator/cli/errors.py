"""User-facing CLI errors: one line that says what went wrong and how to fix it, exit code 2."""


class UserError(Exception):
    """Bad input from the person at the keyboard. Printed as one line, never as a traceback."""


EXIT_OK = 0
EXIT_UNFINISHED = 1
"""The run ended partial or failed."""
EXIT_USAGE = 2
EXIT_PAUSED = 3
"""The run is waiting for an approval; `orchestrator resume THREAD` continues it."""
