"""Operating the mesh: status, quarantine, replay, rollback, and contract tests of published
tables (``mesh test``)."""
