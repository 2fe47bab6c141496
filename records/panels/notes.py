"""Panels for notes."""
