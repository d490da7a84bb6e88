"""tileblot test suite."""
