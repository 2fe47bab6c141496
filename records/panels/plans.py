"""Panels for plans."""
