"""The write side: command models, handlers, the command registry, authorisation and
idempotency.

``commands.registry`` lists every command once (model → handler, and how each entry
point offers it); ``commands.service.BillingService`` is the one object services, tests
and the command line call, with one method per registry row.
"""
