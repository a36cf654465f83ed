"""A static HTML catalog of the mesh (``mesh catalog``).

``model`` gathers what is known about every table (contract, consumers, the lake's state, the
Dagster instance's latest materialisation and checks) into a typed :class:`CatalogModel`;
``render`` writes it as plain HTML pages that open from the file system, with no server.
"""

from platform_lib.catalog.model import CatalogModel, CatalogTable, build_catalog
from platform_lib.catalog.render import write_catalog

__all__ = ["CatalogModel", "CatalogTable", "build_catalog", "write_catalog"]
