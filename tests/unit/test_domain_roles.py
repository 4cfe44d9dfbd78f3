"""Role names are spelled in one module, ``ledger.domain.roles``; everything else imports them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from commands.auth import Principal, RoleName
from commands.models import GrantAccess
from ledger.api.keys import ROLES as KEY_ROLES
from ledger.domain.access import ROLE_ACTIONS
from ledger.domain.roles import ADMIN, GRANTED_ROLES, ROLES, GrantedRole, Role

ROOT = Path(__file__).resolve().parent.parent
# "client" and "timekeeper" are also the words for a scope and a person; these are not.
ONLY_ROLES = {"firm_admin", "billing_clerk", "auditor"}


def test_role_names_are_spelled_only_in_the_roles_module() -> None:
    found = []
    for folder in ("ledger", "commands", "projections"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "ledger/domain/roles.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in ONLY_ROLES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert found == []


def test_every_surface_takes_the_one_list() -> None:
    assert get_args(Role) == ROLES and get_args(GrantedRole) == GRANTED_ROLES
    assert set(ROLES) - set(GRANTED_ROLES) == {ADMIN}
    assert get_args(RoleName) == ROLES and KEY_ROLES == ROLES
    assert set(ROLE_ACTIONS) == set(GRANTED_ROLES)  # every granted role may do something
    schema = GrantAccess.model_json_schema()["properties"]["role"]
    assert tuple(schema["enum"]) == GRANTED_ROLES  # an admin is never granted per client
    assert Principal(id="p", roles=frozenset({ADMIN})).is_firm_admin
