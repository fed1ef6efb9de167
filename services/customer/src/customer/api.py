"""The customer service's HTTP API: whose data it is comes from the access token, never from the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from paved import CurrentPrincipal, Problem, Provided, callers

from customer import contract
from customer.contract import (
    ADDRESS_ID_PATTERN,
    CUSTOMER_SCOPE,
    AddressList,
    AddressOut,
    ContactDetails,
    ProfileOut,
)
from customer.domain import CUSTOMER_ID, Address, Customer, PostalAddress
from customer.domain import ContactDetails as Contact
from customer.use_cases import Customers

CurrentCustomers = Annotated[Customers, Provided(Customers)]
"""The customer service's use cases, for an endpoint's parameters."""


def _forbidden(detail: str, scope: str) -> Problem:
    return Problem(
        403, "Forbidden", detail, headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'}
    )


async def signed_in_customer(principal: CurrentPrincipal) -> str:
    """The id of the customer the access token was issued to: the only customer ``/me`` may touch."""
    if principal.kind != "account" or not principal.has_scopes(CUSTOMER_SCOPE):
        raise _forbidden(
            "/me is for a customer's own access token (an account's, with scope 'customer')", CUSTOMER_SCOPE
        )
    if not CUSTOMER_ID.fullmatch(principal.subject):
        raise _forbidden("the access token's subject is not a customer id", CUSTOMER_SCOPE)
    return principal.subject


SignedInCustomer = Annotated[str, Depends(signed_in_customer)]


AddressId = Annotated[str, Path(pattern=ADDRESS_ID_PATTERN, description="the address's id")]

# Who may call (deny by default, docs/zero-trust.md): the storefront, and order for a delivery address, each
# with the customer's own token.
router = APIRouter(tags=["customers"], dependencies=[callers("web-bff", "order")])


def _profile(customer: Customer) -> ProfileOut:
    return ProfileOut(
        customer_id=customer.id,
        display_name=customer.contact.display_name,
        email=customer.contact.email,
        registered_at=customer.registered_at,
        updated_at=customer.updated_at,
    )


def _address(address: Address) -> AddressOut:
    postal = address.postal
    return AddressOut(
        id=address.id,
        name=postal.name,
        lines=list(postal.lines),
        city=postal.city,
        postcode=postal.postcode,
        country=postal.country,
        added_at=address.added_at,
        updated_at=address.updated_at,
    )


def _postal(address: contract.PostalAddress) -> PostalAddress:
    return PostalAddress(
        name=address.name,
        lines=tuple(address.lines),
        city=address.city,
        postcode=address.postcode,
        country=address.country,
    )


@router.get("/me/profile", summary="The signed-in customer's profile")
async def get_profile(customer_id: SignedInCustomer, customers: CurrentCustomers) -> ProfileOut:
    return _profile(await customers.profile(customer_id))


@router.put(
    "/me/profile",
    summary="Create (201) or update (200) the signed-in customer's profile",
    responses={201: {"description": "the profile was created: the customer is registered"}},
)
async def put_profile(
    details: ContactDetails, customer_id: SignedInCustomer, customers: CurrentCustomers, response: Response
) -> ProfileOut:
    contact = Contact(display_name=details.display_name, email=str(details.email))
    customer, registered = await customers.save_profile(customer_id, contact)
    if registered:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = "/me/profile"
    return _profile(customer)


@router.get("/me/addresses", summary="The signed-in customer's delivery addresses")
async def list_addresses(customer_id: SignedInCustomer, customers: CurrentCustomers) -> AddressList:
    return AddressList(items=[_address(a) for a in await customers.addresses(customer_id)])


@router.post("/me/addresses", status_code=status.HTTP_201_CREATED, summary="Add a delivery address")
async def add_address(
    address: contract.PostalAddress, customer_id: SignedInCustomer, customers: CurrentCustomers, response: Response
) -> AddressOut:
    added = await customers.add_address(customer_id, _postal(address))
    response.headers["Location"] = f"/me/addresses/{added.id}"
    return _address(added)


@router.get("/me/addresses/{address_id}", summary="One of the signed-in customer's addresses")
async def get_address(address_id: AddressId, customer_id: SignedInCustomer, customers: CurrentCustomers) -> AddressOut:
    return _address(await customers.address(customer_id, address_id))


@router.put("/me/addresses/{address_id}", summary="Correct one of the signed-in customer's addresses")
async def change_address(
    address_id: AddressId, address: contract.PostalAddress, customer_id: SignedInCustomer, customers: CurrentCustomers
) -> AddressOut:
    return _address(await customers.change_address(customer_id, address_id, _postal(address)))


@router.delete(
    "/me/addresses/{address_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Forget one of the signed-in customer's addresses",
)
async def remove_address(address_id: AddressId, customer_id: SignedInCustomer, customers: CurrentCustomers) -> None:
    await customers.remove_address(customer_id, address_id)
