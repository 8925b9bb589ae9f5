"""Compiler passes: each a Graph -> Graph function, one per file."""
