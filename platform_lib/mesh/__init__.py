"""The whole mesh in one process: the workspace, its code locations, the model of every table and
who reads whom, runs across domains, and the listing of tables."""
