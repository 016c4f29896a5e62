"""Jinja templates for textual outputs, shipped inside the wheel as package data."""
