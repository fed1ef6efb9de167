"""web-bff's use cases: each page of the storefront, made of the answers of the services that own its data.

Independent calls are made at once (``fanout``), so a page waits for its slowest call, not the sum. A
part the page renders without (availability, points, a payment's state) becomes unavailable in its
place when its service fails it; a call the page needs fails the page with that service's problem.
Every call for the signed-in customer carries their own access token: the services decide by its
subject whose data it is.
"""

from __future__ import annotations

from web_bff import domain
from web_bff.clients import Answer, Customer, DownstreamError, DownstreamRefusedError, Downstreams
from web_bff.contract import (
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
from web_bff.fanout import Missing, or_missing, or_none_if_not_found, together
from web_bff.partners import (
    CatalogAlbum,
    CatalogPage,
    CustomerAddress,
    CustomerAddresses,
    CustomerProfile,
    IdentityAccount,
    IdentityTokens,
    LoyaltyStatement,
    OrderHistory,
    OrderRecord,
    OrderRecords,
    PaymentRecord,
    StockLevels,
)
from web_bff.views import (
    address,
    album,
    history_item,
    order_details,
    order_summary,
    part,
    payment_summary,
    points,
    priced_basket,
    product_card,
    profile,
    tokens,
    unavailable,
)

# The account page shows this many of the latest orders and points entries.
RECENT_ORDERS = 5
RECENT_POINTS = 5


class Storefront:
    """The storefront's pages and actions, over the services the BFF calls (``Downstreams``)."""

    def __init__(self, services: Downstreams) -> None:
        self.services = services

    # -- signing up and in: identity ---------------------------------------------------------------

    async def register(self, registration: Registration) -> AccountCreated:
        """Sign up: an account at identity."""
        body = {"email": str(registration.email), "password": registration.password}
        answer = await self.services.identity.send("POST", "/accounts", json=body, read=IdentityAccount)
        account = answer.body
        return AccountCreated(id=account.id, email=account.email, created_at=account.created_at)

    async def sign_in(self, credentials: SignIn) -> Tokens:
        """identity's access and refresh tokens for an email and password (the password grant)."""
        form = {"grant_type": "password", "username": credentials.email, "password": credentials.password}
        return await self._tokens(form)

    async def refresh(self, request: Refresh) -> Tokens:
        """New tokens for a refresh token (each is good once)."""
        return await self._tokens({"grant_type": "refresh_token", "refresh_token": request.refresh_token})

    async def _tokens(self, form: dict[str, str]) -> Tokens:
        answer = await self.services.identity.send("POST", "/oauth/token", data=form, read=IdentityTokens)
        return tokens(answer.body)

    # -- browsing and the basket: catalog and warehouse --------------------------------------------

    async def browse(self, *, q: str | None, genre: str | None, page: str | None, limit: int) -> BrowsePage:
        """A page of the catalog's albums, each with the warehouse's availability (``unknown`` without it)."""
        query = {"q": q, "genre": genre, "after": page, "limit": limit}
        albums = await self.services.catalog.get(
            "/albums", params={name: value for name, value in query.items() if value is not None}, read=CatalogPage
        )
        # The stock of the albums the catalog chose: this call waits for the first, so it cannot overlap it.
        stock = await self._stock([found.sku for found in albums.items])
        return BrowsePage(
            items=[product_card(found, stock) for found in albums.items],
            next_page=albums.next_cursor,
            unavailable=unavailable(stock),
        )

    async def price_basket(self, basket: Basket) -> PricedBasket:
        """The page's basket at the catalog's prices now, with availability; SKUs no longer sold listed apart."""
        skus = [line.sku for line in basket.lines]
        # Every album and the stock at once: the catalog has no call for many SKUs, so one call per line.
        async with together() as group:
            asked = {
                sku: group.create_task(
                    or_none_if_not_found(self.services.catalog.get(f"/albums/{sku}", read=CatalogAlbum))
                )
                for sku in skus
            }
            stock_task = group.create_task(self._stock(skus))
        albums = {sku: album(found) for sku, task in asked.items() if (found := task.result()) is not None}
        priced = domain.price_basket([domain.BasketLine(line.sku, line.quantity) for line in basket.lines], albums)
        return priced_basket(priced, stock_task.result())

    async def _stock(self, skus: list[str]) -> dict[str, int] | Missing:
        """Each SKU's available units, or what was missing: the page waits for them only so long."""
        if not skus:
            return {}
        levels = await or_missing(
            self.services.warehouse.get(
                "/stock", params={"sku": skus}, read=StockLevels, timeout=self.services.deadlines.optional
            )
        )
        if isinstance(levels, Missing):
            return levels
        return {level.sku: level.available for level in levels.items}

    # -- checkout and orders: order and payment ----------------------------------------------------

    async def checkout(self, body: Checkout, customer: Customer, *, idempotency_key: str) -> Answer[OrderDetails]:
        """Place the basket as the customer's order: 201, or 200 with the same order for a retry of the key."""
        order = {
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in body.lines],
            "delivery_address_id": body.delivery_address_id,
            "payment": {"card_number": body.card_number.get_secret_value()},
        }
        try:
            answer = await self.services.order.send(
                "POST",
                "/orders",
                json=order,
                headers=customer.headers | {"Idempotency-Key": idempotency_key},
                read=OrderRecord,
                timeout=self.services.deadlines.checkout,
            )
        except DownstreamRefusedError:
            raise
        except DownstreamError as exc:
            # Without a clear answer, order may have placed it all the same: the same key again tells, and
            # never places it twice.
            exc.hint = "the order may have been placed: send it again with the same Idempotency-Key"
            raise
        return Answer(answer.status, order_details(answer.body))

    async def orders(self, customer: Customer, *, page: str | None, limit: int) -> OrderList:
        """The customer's orders, newest first, a page at a time."""
        params: dict[str, str | int] = {"limit": limit} | ({"after": page} if page is not None else {})
        found = await self.services.order.get("/orders", params=params, headers=customer.headers, read=OrderRecords)
        return OrderList(items=[order_summary(order) for order in found.items], next_page=found.next_cursor)

    async def order_status(self, order_id: str, customer: Customer) -> OrderStatusPage:
        """One order for its status page: the order and its history (needed), its payment (optional)."""
        headers, services = customer.headers, self.services
        async with together() as group:
            order = group.create_task(services.order.get(f"/orders/{order_id}", headers=headers, read=OrderRecord))
            history = group.create_task(
                services.order.get(f"/orders/{order_id}/history", headers=headers, read=OrderHistory)
            )
            # The page shows the order without its payment's state rather than wait long for it.
            payment = group.create_task(
                or_missing(
                    or_none_if_not_found(
                        services.payment.get(
                            f"/me/payments/{order_id}",
                            headers=headers,
                            read=PaymentRecord,
                            timeout=services.deadlines.optional,
                        )
                    )
                )
            )
        entries = history.result().items
        return OrderStatusPage(
            **dict(order_details(order.result(), history=entries)),
            history=[history_item(entry) for entry in entries],
            payment=part(payment.result(), lambda found: payment_summary(found) if found is not None else None),
        )

    async def cancel_order(self, order_id: str, customer: Customer) -> OrderDetails:
        """Cancel the customer's order (order refuses with 409 once its payment is taken)."""
        answer = await self.services.order.send(
            "POST", f"/orders/{order_id}/cancel", headers=customer.headers, read=OrderRecord
        )
        return order_details(answer.body)

    # -- the account: customer, loyalty and order --------------------------------------------------

    async def account_page(self, customer: Customer) -> AccountPage:
        """Profile, addresses, points and recent orders, asked of three services at once, each part optional."""
        headers, services, optional = customer.headers, self.services, self.services.deadlines.optional
        async with together() as group:
            # A profile not made yet is no failure: the page asks the customer for their details.
            found_profile = group.create_task(
                or_missing(
                    or_none_if_not_found(services.customer.get("/me/profile", headers=headers, read=CustomerProfile))
                )
            )
            found_addresses = group.create_task(
                or_missing(services.customer.get("/me/addresses", headers=headers, read=CustomerAddresses))
            )
            found_points = group.create_task(
                or_missing(
                    services.loyalty.get(
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
                    services.order.get("/orders", params={"limit": RECENT_ORDERS}, headers=headers, read=OrderRecords)
                )
            )
        return AccountPage(
            profile=part(found_profile.result(), lambda found: profile(found) if found is not None else None),
            addresses=part(found_addresses.result(), lambda found: [address(item) for item in found.items]),
            points=part(found_points.result(), points),
            recent_orders=part(found_orders.result(), lambda found: [order_summary(order) for order in found.items]),
        )

    async def save_profile(self, details: ContactDetails, customer: Customer) -> Answer[Profile]:
        """Create (201) or update (200) the customer's profile at the customer service."""
        answer = await self.services.customer.send(
            "PUT",
            "/me/profile",
            json={"display_name": details.display_name, "email": str(details.email)},
            headers=customer.headers,
            read=CustomerProfile,
        )
        return Answer(answer.status, profile(answer.body))

    async def add_address(self, postal: PostalAddress, customer: Customer) -> Address:
        """Add a delivery address to the customer's, for checkout."""
        answer = await self.services.customer.send(
            "POST", "/me/addresses", json=postal.model_dump(), headers=customer.headers, read=CustomerAddress
        )
        return address(answer.body)
