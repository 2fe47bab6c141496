"""Panels for groups."""
