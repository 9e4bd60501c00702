"""consentreg: a consent register and photo publishing gate for kindergartens and schools."""

__version__ = "0.1.0"
