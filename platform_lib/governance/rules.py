"""The named convention rules of ``mesh check``, each with why the mesh has it.

Every rule has an id, a one-line rationale and can be exempted for one subject in
``governance/exemptions.yaml`` with a reason.
"""

RULES: dict[str, str] = {
    "contract-lint": "Contracts are valid ODCS and follow the platform's conventions.",
    "location-import": "Every code location loads, so the mesh can be checked at all.",
    "table-load": "Every table loads: its contract and those of the tables it reads are usable.",
    "key-layout": "Asset keys are [domain, layer, table], the domain being the code location.",
    "key-ownership": "A table belongs to one domain; two definitions of a key hide one silently.",
    "owners": "Every table has owners, so an incident reaches a team.",
    "contract-coverage": "Every published table has a contract and every contract a table.",
    "contract-schema": "The columns an asset declares are its contract's columns and types.",
    "layer-reads": "Products build on curated, product or raw data, never on quarantines.",
    "domain-cycle": "Domains depend on each other without cycles, so each can ship alone.",
    "undeclared-read": "Cross-domain reads are declared, so producers know their consumers.",
    "consumer-producer": "A consumer reads a table that exists.",
    "consumer-access": "A consumer reads only what the producer shares (public or internal).",
    "consumer-major": "A consumer reads a major version the producer publishes.",
    "consumer-columns": "A consumer reads only columns its producer's contract promises.",
    "consumer-deprecated": "A consumer migrates off a deprecated major before its date.",
    "read-purposes": "A purpose declared to read restricted columns names a table, its columns "
    "and a purpose the producer allows.",
    "breaking-change": "A breaking change to a contract comes with a new major version.",
    "base-revision": "The base revision for the comparison exists and its contracts parse.",
}
"""Rule id -> rationale."""
