"""What the tests and the benchmarks share: where the project and the real data are, throw-away copies of the
project and `kedro` run in them as a user would. Not shipped with the package."""
