class LoadError(Exception):
    """A file that cannot be read; the message is the reason shown to the user."""
