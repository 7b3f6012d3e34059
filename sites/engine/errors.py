"""What the engine refuses, raised to views, commands and tests (its own module so every part of
the engine can raise it without importing another's)."""


class OperationRefused(Exception):
    """A request the product will not carry out; the message is for the site owner."""
