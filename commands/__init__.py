"""The write side: command models, handlers, authorisation and idempotency.

``commands.service.BillingService`` is the one object services, tests and the
command line call; every command goes through the same handlers there.
"""
