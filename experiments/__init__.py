"""One module per thesis figure or table; each defines EXPERIMENT (see aatcp.runner)."""
