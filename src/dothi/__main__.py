"""`python -m dothi` is the `dothi` command."""

from dothi.cli import main

main()
