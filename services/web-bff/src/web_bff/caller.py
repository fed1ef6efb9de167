"""Who calls the BFF, and what it calls the services with: endpoint parameters shared by the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from paved import CurrentPrincipal, Problem

from web_bff.downstream import Downstreams

CUSTOMER_SCOPE = "customer"


@dataclass(frozen=True)
class Customer:
    """The signed-in customer, and the access token they sent: passed on to the services that act for them."""

    id: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        """The same bearer token for the services: they decide by its subject whose data it is."""
        return {"Authorization": f"Bearer {self.access_token}"}


async def signed_in_customer(principal: CurrentPrincipal, request: Request) -> Customer:
    """The customer the access token was issued to; 403 for a service client's or an admin's token."""
    if principal.kind != "account" or not principal.has_scopes(CUSTOMER_SCOPE):
        raise Problem(
            403,
            "Forbidden",
            "the storefront is for a customer's own access token (an account's, with scope 'customer')",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{CUSTOMER_SCOPE}"'},
        )
    # Verified just now by CurrentPrincipal, so the header is there and is a bearer token.
    _, _, token = request.headers["authorization"].partition(" ")
    return Customer(id=principal.subject, access_token=token.strip())


SignedInCustomer = Annotated[Customer, Depends(signed_in_customer)]


async def _downstreams(request: Request) -> Downstreams:
    return request.app.state.downstreams  # type: ignore[no-any-return]


CurrentDownstreams = Annotated[Downstreams, Depends(_downstreams)]
"""Every service the BFF calls, for an endpoint's parameters."""
