"""The whole mesh in one process: the workspace, its code locations, the graph of tables and
consumers, runs across domains, and the listing of tables."""
