"""web-bff's HTTP API for the storefront's pages: each endpoint parses the request and calls a use case.

Signing up and in, browsing and the basket are anyone's; checkout, orders and the account are the
signed-in customer's, whose access token goes on to the services that act for them.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from paved import CurrentPrincipal, Problem, Provided, callers

from web_bff.clients import Customer
from web_bff.contract import (
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_ID_PATTERN,
    ORDER_PAGE_PATTERN,
    SKU_PATTERN,
    AccountCreated,
    AccountPage,
    Address,
    Basket,
    BrowsePage,
    Checkout,
    ContactDetails,
    OrderDetails,
    OrderList,
    OrderStatusPage,
    PostalAddress,
    PricedBasket,
    Profile,
    Refresh,
    Registration,
    SignIn,
    Tokens,
)
from web_bff.use_cases import Storefront

CUSTOMER_SCOPE = "customer"
# RFC 6749, section 5.1: token responses must not be cached anywhere, and the BFF passes them on.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY_FIELD = "header.Idempotency-Key"

# The edge: browsers call it with no certificate, and prove who they are with their access tokens.
router = APIRouter(prefix="/api", dependencies=[callers(public=True)])


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
StorefrontDep = Annotated[Storefront, Provided(Storefront)]
OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN, description="the order's id")]


# -- signing up and in -----------------------------------------------------------------------------


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, tags=["session"], summary="Sign up: an account at identity"
)
async def register(registration: Registration, storefront: StorefrontDep) -> AccountCreated:
    return await storefront.register(registration)


@router.post("/sign-in", tags=["session"], summary="Sign in with email and password: the access and refresh tokens")
async def sign_in(credentials: SignIn, storefront: StorefrontDep, response: Response) -> Tokens:
    tokens = await storefront.sign_in(credentials)
    response.headers.update(NO_STORE)
    return tokens


@router.post("/refresh", tags=["session"], summary="New tokens for a refresh token (each refresh token is good once)")
async def refresh(request: Refresh, storefront: StorefrontDep, response: Response) -> Tokens:
    tokens = await storefront.refresh(request)
    response.headers.update(NO_STORE)
    return tokens


# -- browsing and the basket -----------------------------------------------------------------------


@router.get("/browse", tags=["shop"], summary="Albums for the product grid, a page at a time, with their availability")
async def browse(
    storefront: StorefrontDep,
    q: Annotated[str | None, Query(max_length=300, description="part of the title or artist")] = None,
    genre: Annotated[str | None, Query(max_length=60, description="exact genre, any case")] = None,
    page: Annotated[str | None, Query(pattern=SKU_PATTERN, description="the `next_page` of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> BrowsePage:
    return await storefront.browse(q=q, genre=genre, page=page, limit=limit)


@router.post(
    "/basket/price",
    tags=["shop"],
    summary="The basket the page keeps, priced by the catalog now, with availability",
)
async def price_basket(basket: Basket, storefront: StorefrontDep) -> PricedBasket:
    return await storefront.price_basket(basket)


# -- checkout and orders ---------------------------------------------------------------------------


def _idempotency_key(value: str | None) -> str:
    # 400, as order answers it (draft-ietf-httpapi-idempotency-key-header): checked before order is asked.
    if value is None or not IDEMPOTENCY_KEY.fullmatch(value):
        message = "required: a unique key per order (e.g. a UUID), sent again with each retry"
        raise Problem(
            400,
            "Request is not valid",
            f"{IDEMPOTENCY_KEY_FIELD}: {message}",
            errors=[{"field": IDEMPOTENCY_KEY_FIELD, "message": message}],
        )
    return value


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    tags=["orders"],
    summary="Place the basket as an order (201); a retry with the same Idempotency-Key gets the same order (200)",
    responses={200: {"model": OrderDetails, "description": "a retry: the order the first request placed"}},
)
async def checkout(
    body: Checkout,
    customer: SignedInCustomer,
    storefront: StorefrontDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", description="unique per order")] = None,
) -> OrderDetails:
    placed = await storefront.checkout(body, customer, idempotency_key=_idempotency_key(idempotency_key))
    response.status_code = placed.status
    response.headers["Location"] = f"/api/orders/{placed.body.id}"
    return placed.body


@router.get("/orders", tags=["orders"], summary="The signed-in customer's orders, newest first, a page at a time")
async def list_orders(
    customer: SignedInCustomer,
    storefront: StorefrontDep,
    page: Annotated[
        str | None, Query(pattern=ORDER_PAGE_PATTERN, description="the `next_page` of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderList:
    return await storefront.orders(customer, page=page, limit=limit)


@router.get(
    "/orders/{order_id}",
    tags=["orders"],
    summary="One order for its status page: the order, its history and its payment",
)
async def order_status(order_id: OrderId, customer: SignedInCustomer, storefront: StorefrontDep) -> OrderStatusPage:
    return await storefront.order_status(order_id, customer)


@router.post(
    "/orders/{order_id}/cancel", tags=["orders"], summary="Cancel an order until its payment is taken; 409 after"
)
async def cancel_order(order_id: OrderId, customer: SignedInCustomer, storefront: StorefrontDep) -> OrderDetails:
    return await storefront.cancel_order(order_id, customer)


# -- the account -----------------------------------------------------------------------------------


@router.get(
    "/account",
    tags=["account"],
    summary="The account page: profile, addresses, loyalty points and recent orders, in one",
)
async def account_page(customer: SignedInCustomer, storefront: StorefrontDep) -> AccountPage:
    return await storefront.account_page(customer)


@router.put(
    "/account/profile",
    tags=["account"],
    summary="Create (201) or update (200) the customer's profile: what the shop calls them, where it writes",
    responses={201: {"model": Profile, "description": "the profile was created"}},
)
async def save_profile(
    details: ContactDetails, customer: SignedInCustomer, storefront: StorefrontDep, response: Response
) -> Profile:
    saved = await storefront.save_profile(details, customer)
    response.status_code = saved.status
    return saved.body


@router.post(
    "/account/addresses", status_code=status.HTTP_201_CREATED, tags=["account"], summary="Add a delivery address"
)
async def add_address(postal: PostalAddress, customer: SignedInCustomer, storefront: StorefrontDep) -> Address:
    return await storefront.add_address(postal, customer)
