"""The ``vigil`` command line. Talks to the control API, and to files for ``config``."""
