"""The roles a principal may hold: the one place their names are spelled.

A role is firm-wide on an API key or a command-line principal (``firm_admin``
acts everywhere) and per client or matter on an ``AccessGranted`` event (every
other role). The command side, the access list, the API's keys and route guards
and the command registry all take the names and the role sets from here, so a
role is added or renamed in one module.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

GrantedRole = Literal["billing_clerk", "timekeeper", "auditor", "client"]
"""The roles an ``AccessGranted`` event may give on a client or a matter."""

Role = Literal["firm_admin", GrantedRole]
"""Every role; ``firm_admin`` is never granted per client, it is the firm's."""

ADMIN: Final[Literal["firm_admin"]] = "firm_admin"
CLERK: Final[Literal["billing_clerk"]] = "billing_clerk"
TK: Final[Literal["timekeeper"]] = "timekeeper"
AUDITOR: Final[Literal["auditor"]] = "auditor"
CLIENT: Final[Literal["client"]] = "client"

ROLES: Final[tuple[Role, ...]] = (ADMIN, CLERK, TK, AUDITOR, CLIENT)
"""Every role, in the order help texts and errors list them."""
GRANTED_ROLES: Final[tuple[GrantedRole, ...]] = (CLERK, TK, AUDITOR, CLIENT)

# Who may use a route or a command at all (the grant check on the data comes after).
ADMIN_ONLY: Final[frozenset[Role]] = frozenset({ADMIN})
BILLING: Final[frozenset[Role]] = frozenset({ADMIN, CLERK})
TIME: Final[frozenset[Role]] = frozenset({ADMIN, CLERK, TK})
AUDIT: Final[frozenset[Role]] = frozenset({ADMIN, AUDITOR})
STAFF_READ: Final[frozenset[Role]] = frozenset({ADMIN, CLERK, TK, AUDITOR})
MONEY_READ: Final[frozenset[Role]] = frozenset({ADMIN, CLERK, AUDITOR, CLIENT})
ME: Final[frozenset[Role]] = frozenset(ROLES)

assert set(get_args(Role)) == set(ROLES), "ROLES must list every Role"
