"""Running the mesh in production shape: object-store lake, PostgreSQL instance, code servers."""
