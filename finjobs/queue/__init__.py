"""Redis and RQ: the connection, the queue registry, enqueueing, progress and the worker class."""
