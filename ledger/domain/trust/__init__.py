"""Trust (IOLTA) accounting: the client trust ledger's events, rules and bank statements."""
