"""Scaffolding: a new domain or table that works the moment it is created (``mesh new``), and
a first contract inferred from data (``mesh contracts infer``)."""
