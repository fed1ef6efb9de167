"""The loyalty service's HTTP read API: a customer's own points, and any customer's for an admin."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from paved import CurrentPrincipal, Problem, Provided, callers, require_scopes

from loyalty.contract import ADMIN_SCOPE, CUSTOMER_SCOPE, ID_PATTERN, EntryOut, Money, PointsStatement
from loyalty.domain import Statement
from loyalty.store import DatabaseLedger

_CUSTOMER_ID = re.compile(ID_PATTERN)

# The ledger's reads: a statement is one query of one partition, no transaction and nothing announced.
CurrentLedger = Annotated[DatabaseLedger, Provided(DatabaseLedger)]


async def signed_in_customer(principal: CurrentPrincipal) -> str:
    """The id of the customer the access token was issued to: the only customer ``/me`` may read."""
    is_customer = principal.kind == "account" and principal.has_scopes(CUSTOMER_SCOPE)
    if not is_customer or not _CUSTOMER_ID.fullmatch(principal.subject):
        raise Problem(
            403,
            "Forbidden",
            "/me is for a customer's own access token (an account's, with scope 'customer')",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{CUSTOMER_SCOPE}"'},
        )
    return principal.subject


SignedInCustomer = Annotated[str, Depends(signed_in_customer)]
Limit = Annotated[int, Query(ge=1, le=100, description="how many of the most recent entries")]

# Who may call (deny by default, docs/zero-trust.md): the storefront; any customer's points, the operators.
router = APIRouter(tags=["points"], dependencies=[callers("web-bff")])


def _statement(statement: Statement) -> PointsStatement:
    return PointsStatement(
        customer_id=statement.customer_id,
        balance=statement.balance,
        entries=[
            EntryOut(
                number=entry.number,
                order_id=entry.order_id,
                kind=entry.kind.value,
                points=entry.points,
                balance_after=entry.balance_after,
                recorded_at=entry.recorded_at,
                amount=Money(amount_minor=entry.amount.amount_minor, currency=entry.amount.currency)
                if entry.amount
                else None,
            )
            for entry in statement.entries
        ],
    )


@router.get("/me/points", summary="The signed-in customer's points: balance and recent entries")
async def my_points(customer_id: SignedInCustomer, ledger: CurrentLedger, limit: Limit = 20) -> PointsStatement:
    return _statement(await ledger.statement(customer_id, limit=limit))


@router.get(
    "/customers/{customer_id}/points",
    dependencies=[require_scopes(ADMIN_SCOPE), callers(operators=True)],
    summary="Any customer's points (admin)",
)
async def customer_points(
    customer_id: Annotated[str, Path(pattern=ID_PATTERN, description="the customer's id")],
    ledger: CurrentLedger,
    limit: Limit = 20,
) -> PointsStatement:
    return _statement(await ledger.statement(customer_id, limit=limit))
