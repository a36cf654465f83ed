"""The command line, ``mesh``: thin typer commands over the layers below (one module a command)."""
