"""Amparo: an encrypted registry and protection toolkit for human rights defenders."""

__version__ = "0.1.0"
__all__ = ["__version__"]
