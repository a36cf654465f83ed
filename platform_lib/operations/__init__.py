"""Operating the mesh: status, quarantine, replay, rollback, alerts and automation."""
