"""The payment service's HTTP API: reading payments. Payments are taken and refunded by commands only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from paved import CurrentPrincipal, Principal, Problem, Provided, callers

from payment.contract import ID_PATTERN, HistoryEntryOut, PaymentOut
from payment.domain import HistoryEntry, Payment, PaymentNotFoundError
from payment.use_cases import Cashier

READ_SCOPE = "payments:read"

# Who may call (deny by default, docs/zero-trust.md): the storefront; any order's payment, the operators.
router = APIRouter(tags=["payments"], dependencies=[callers("web-bff")])

OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="the order the payment is for")]
CashierDep = Annotated[Cashier, Provided(Cashier)]


async def _may_read_any_payment(principal: CurrentPrincipal) -> Principal:
    if principal.has_scopes(READ_SCOPE) or principal.has_scopes("admin"):
        return principal
    raise Problem(
        403,
        "Forbidden",
        f"reading any order's payment needs the scope {READ_SCOPE} or admin",
        headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{READ_SCOPE}"'},
    )


def _out(payment: Payment, history: list[HistoryEntry]) -> PaymentOut:
    return PaymentOut(
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        status=payment.status.value,
        amount_minor=payment.amount.amount_minor,
        currency=payment.amount.currency,
        card_last4=payment.card_last4,
        charge_id=payment.charge_id,
        decline_code=payment.decline_code,
        failure_reason=payment.failure_reason,
        refund_id=payment.refund_id,
        requested_at=payment.requested_at,
        updated_at=payment.updated_at,
        history=[HistoryEntryOut(at=e.at, status=e.status.value, note=e.note) for e in history],
    )


@router.get(
    "/payments/{order_id}",
    dependencies=[Depends(_may_read_any_payment), callers(operators=True)],
    summary="An order's payment and its history (service clients with payments:read, and admins)",
)
async def get_payment(order_id: OrderIdPath, cashier: CashierDep) -> PaymentOut:
    return _out(*await cashier.payment(order_id))


@router.get("/me/payments/{order_id}", summary="The payment of one of the caller's own orders")
async def get_my_payment(order_id: OrderIdPath, principal: CurrentPrincipal, cashier: CashierDep) -> PaymentOut:
    payment, history = await cashier.payment(order_id)
    # Someone else's payment is as unknown to the caller as one that does not exist.
    if payment.customer_id != principal.subject:
        raise PaymentNotFoundError(order_id)
    return _out(payment, history)
