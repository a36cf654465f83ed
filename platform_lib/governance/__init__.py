"""Governance of the mesh in CI (``mesh check``): convention rules, consumers, breaking changes
and the reports."""
