"""finjobs: background jobs for a personal-finance app, on Redis queues (RQ).

Importing the package does no I/O; entrypoints (cli, web, jobs) build settings and connections.
"""

__version__ = "0.1.0"
