"""Use cases shared by the CLI, the web API and the jobs: load -> decide in domain -> persist.

Every function receives its session / Redis connection / settings as arguments.
"""
