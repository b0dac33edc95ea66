"""Toolkit: local, pseudonymising qualitative analysis of interviews and surveys."""
__version__ = "0.1.0"
