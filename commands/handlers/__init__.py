"""Command handlers, one module per thing handled (firm, clients, matters, time,
expenses, access, invoices, payments); trust handlers live in ``commands.trust``.

Each handler is ``(context, principal, command) -> Decision``: it loads, checks and
decides; ``BillingService.execute`` records. ``commands.registry`` maps every command
model to its handler.
"""
