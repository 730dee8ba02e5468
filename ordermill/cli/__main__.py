"""`python -m ordermill.cli ...`: the same as the `ordermill` console script (tests and hosts
without the script on PATH use it)."""

from ordermill.cli import main

main()
