"""`python -m finjobs` == the `finjobs` command."""

from finjobs.cli import main

main()
