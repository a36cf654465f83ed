"""Governance of the mesh's contracts: how a contract may change between versions."""
