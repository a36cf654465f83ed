"""Dagster for one domain: its Definitions, asset and check factories, metadata, sensors and
automation, all derived from the declarations and contracts."""
