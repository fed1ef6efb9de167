"""The account page: profile, addresses, points and recent orders, asked of three services at once.

Each part is the customer's own, asked with their access token; a part its service cannot give now is
shown as unavailable in its place, and the rest of the page is there.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from web_bff.caller import CurrentDownstreams, SignedInCustomer
from web_bff.contract import AccountPage, Address, ContactDetails, PostalAddress, Profile
from web_bff.fanout import or_missing, or_none_if_not_found, together
from web_bff.partners import CustomerAddress, CustomerAddresses, CustomerProfile, LoyaltyStatement, OrderRecords
from web_bff.views import address, order_summary, part, points, profile

router = APIRouter(prefix="/account", tags=["account"])

RECENT_ORDERS = 5
RECENT_POINTS = 5


@router.get("", summary="The account page: profile, addresses, loyalty points and recent orders, in one")
async def account_page(customer: SignedInCustomer, downstreams: CurrentDownstreams) -> AccountPage:
    headers, optional = customer.headers, downstreams.deadlines.optional
    async with together() as group:
        # A profile not made yet is no failure: the page asks the customer for their details.
        found_profile = group.create_task(
            or_missing(
                or_none_if_not_found(downstreams.customer.get("/me/profile", headers=headers, read=CustomerProfile))
            )
        )
        found_addresses = group.create_task(
            or_missing(downstreams.customer.get("/me/addresses", headers=headers, read=CustomerAddresses))
        )
        found_points = group.create_task(
            or_missing(
                downstreams.loyalty.get(
                    "/me/points",
                    params={"limit": RECENT_POINTS},
                    headers=headers,
                    read=LoyaltyStatement,
                    timeout=optional,
                )
            )
        )
        found_orders = group.create_task(
            or_missing(
                downstreams.order.get("/orders", params={"limit": RECENT_ORDERS}, headers=headers, read=OrderRecords)
            )
        )
    return AccountPage(
        profile=part(found_profile.result(), lambda found: profile(found) if found is not None else None),
        addresses=part(found_addresses.result(), lambda found: [address(item) for item in found.items]),
        points=part(found_points.result(), points),
        recent_orders=part(found_orders.result(), lambda found: [order_summary(order) for order in found.items]),
    )


@router.put(
    "/profile",
    summary="Create (201) or update (200) the customer's profile: what the shop calls them, where it writes",
    responses={201: {"model": Profile, "description": "the profile was created"}},
)
async def save_profile(
    details: ContactDetails, customer: SignedInCustomer, downstreams: CurrentDownstreams, response: Response
) -> Profile:
    answer = await downstreams.customer.send(
        "PUT",
        "/me/profile",
        json={"display_name": details.display_name, "email": str(details.email)},
        headers=customer.headers,
        read=CustomerProfile,
    )
    response.status_code = answer.status
    return profile(answer.body)


@router.post("/addresses", status_code=status.HTTP_201_CREATED, summary="Add a delivery address")
async def add_address(postal: PostalAddress, customer: SignedInCustomer, downstreams: CurrentDownstreams) -> Address:
    answer = await downstreams.customer.send(
        "POST", "/me/addresses", json=postal.model_dump(), headers=customer.headers, read=CustomerAddress
    )
    return address(answer.body)
