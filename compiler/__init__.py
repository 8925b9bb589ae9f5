"""clflow."""
