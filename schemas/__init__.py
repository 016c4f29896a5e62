"""The bundled JSON Schemas, shipped inside the wheel as package data (see pyproject.toml)."""
