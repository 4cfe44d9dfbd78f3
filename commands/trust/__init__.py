"""Trust (IOLTA) commands: their models, their handlers and their registry rows."""
