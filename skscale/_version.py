"""The skscale version, written once: ``pyproject.toml`` reads it from here,
and everything that stamps or prints the version imports it from here."""

__version__ = "0.1.0"
