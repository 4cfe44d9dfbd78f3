"""Trust (IOLTA) commands: their models, their handlers and the service methods."""
