"""Scaffolding: a new domain or table that works the moment it is created (``mesh new``)."""
