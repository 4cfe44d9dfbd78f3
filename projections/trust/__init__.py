"""Trust (IOLTA) books and reports, folded from the trust events."""
