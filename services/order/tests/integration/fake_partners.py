"""Small stand-ins for the warehouse, payment and loyalty: real paved services that answer order's commands.

Each consumes its command stream with a durable consumer and answers on the reply subject order gave,
through its own outbox, as the real ones do. They take order's commands as order sends them
(``order.partners``) and answer with the whole shape of their owner's reply (copied below from the
owners' contracts), so that order's tolerant reading of replies is exercised too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from paved import Service, ServiceSettings, utc_now
from paved.messaging import Handling, Reply, Stream, messaging_tables
from paved.testing import create_tables
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import MetaData

from order import partners


class Line(BaseModel):
    sku: str
    quantity: int


class Shortage(BaseModel):
    sku: str
    requested: int
    available: int


class StockReserved(Reply, type="warehouse.StockReserved", version=1):
    order_id: str
    lines: tuple[Line, ...]
    expires_at: AwareDatetime


class StockReleased(Reply, type="warehouse.StockReleased", version=1):
    order_id: str
    lines: tuple[Line, ...]
    reason: str
    released_at: AwareDatetime


class OrderDispatched(Reply, type="warehouse.OrderDispatched", version=1):
    order_id: str
    lines: tuple[Line, ...]
    dispatched_at: AwareDatetime


class OutOfStock(Reply, type="warehouse.OutOfStock", version=1):
    order_id: str
    shortages: tuple[Shortage, ...]


class ReservationNotFound(Reply, type="warehouse.ReservationNotFound", version=1):
    order_id: str


class PaymentTaken(Reply, type="payment.PaymentTaken", version=1):
    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    charge_id: str
    card_last4: str
    taken_at: AwareDatetime


class PaymentDeclined(Reply, type="payment.PaymentDeclined", version=1):
    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    decline_code: str
    declined_at: AwareDatetime


class PaymentRefunded(Reply, type="payment.PaymentRefunded", version=1):
    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    refund_id: str
    refunded_at: AwareDatetime


class NothingToRefund(Reply, type="payment.NothingToRefund", version=1):
    order_id: str
    reason: str


class PointsAwarded(Reply, type="loyalty.PointsAwarded", version=1):
    order_id: str
    customer_id: str
    points: int
    balance: int
    awarded_at: AwareDatetime


class PointsRevoked(Reply, type="loyalty.PointsRevoked", version=1):
    order_id: str
    customer_id: str
    points: int
    balance: int
    revoked_at: AwareDatetime
    was_awarded: bool


metadata = MetaData()
tables = messaging_tables(metadata)


async def partner_service(name: str, *, folder: Path, broker_url: str) -> Service:
    """A bare paved service named ``name`` with a SQLite database of its own for its outbox and inbox."""
    url = f"sqlite+aiosqlite:///{folder}/{name}.db"
    await create_tables(url, metadata)
    return Service(
        name=name, version="0", settings=ServiceSettings(database_url=url, broker_url=broker_url), messaging=tables
    )


@dataclass
class FakeWarehouse:
    stock: dict[str, int]
    held: dict[str, tuple[Line, ...]] = field(default_factory=dict)
    dispatched: set[str] = field(default_factory=set)
    commands: list[tuple[str, str]] = field(default_factory=list)

    async def service(self, *, folder: Path, broker_url: str) -> Service:
        service = await partner_service("warehouse", folder=folder, broker_url=broker_url)
        stream = service.messaging.own(Stream("WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"]))
        commands = service.messaging.consumer("warehouse-commands", stream=stream, subjects=["warehouse.commands.>"])

        @commands.handles(partners.ReserveStock, senders=["order"])
        async def reserve(handling: Handling, command: partners.ReserveStock) -> None:
            self.commands.append(("reserve", command.order_id))
            short = [
                Shortage(sku=line.sku, requested=line.quantity, available=self.stock.get(line.sku, 0))
                for line in command.lines
                if self.stock.get(line.sku, 0) < line.quantity
            ]
            if short:
                await handling.reply(OutOfStock(order_id=command.order_id, shortages=tuple(short)))
                return
            lines = tuple(Line(sku=line.sku, quantity=line.quantity) for line in command.lines)
            for line in lines:
                self.stock[line.sku] -= line.quantity
            self.held[command.order_id] = lines
            await handling.reply(
                StockReserved(order_id=command.order_id, lines=lines, expires_at=utc_now() + timedelta(minutes=15))
            )

        @commands.handles(partners.ReleaseStock, senders=["order"])
        async def release(handling: Handling, command: partners.ReleaseStock) -> None:
            self.commands.append(("release", command.order_id))
            lines = self.held.pop(command.order_id, None)
            if lines is None:
                await handling.reply(ReservationNotFound(order_id=command.order_id))
                return
            for line in lines:
                self.stock[line.sku] += line.quantity
            await handling.reply(
                StockReleased(order_id=command.order_id, lines=lines, reason="released", released_at=utc_now())
            )

        @commands.handles(partners.DispatchOrder, senders=["order"])
        async def dispatch(handling: Handling, command: partners.DispatchOrder) -> None:
            self.commands.append(("dispatch", command.order_id))
            lines = self.held.pop(command.order_id)
            self.dispatched.add(command.order_id)
            await handling.reply(OrderDispatched(order_id=command.order_id, lines=lines, dispatched_at=utc_now()))

        return service


@dataclass
class FakePayment:
    declined_cards: set[str] = field(default_factory=set)
    charged: dict[str, tuple[int, str]] = field(default_factory=dict)  # order id -> (amount, card number)
    refunded: set[str] = field(default_factory=set)

    async def service(self, *, folder: Path, broker_url: str) -> Service:
        service = await partner_service("payment", folder=folder, broker_url=broker_url)
        stream = service.messaging.own(Stream("PAYMENT_COMMANDS", subjects=["payment.commands.>"]))
        commands = service.messaging.consumer("payment-commands", stream=stream, subjects=["payment.commands.>"])

        @commands.handles(partners.TakePayment, senders=["order"])
        async def take(handling: Handling, command: partners.TakePayment) -> None:
            asked = {
                "order_id": command.order_id,
                "customer_id": command.customer_id,
                "amount_minor": command.amount_minor,
                "currency": command.currency,
            }
            if command.card_number in self.declined_cards:
                declined = {"decline_code": "insufficient_funds", "declined_at": utc_now()}
                await handling.reply(PaymentDeclined.model_validate(asked | declined))
                return
            self.charged[command.order_id] = (command.amount_minor, command.card_number)
            charge = {
                "charge_id": f"ch-{command.order_id}",
                "card_last4": command.card_number[-4:],
                "taken_at": utc_now(),
            }
            taken = PaymentTaken.model_validate(asked | charge)
            await handling.reply(taken)

        @commands.handles(partners.RefundPayment, senders=["order"])
        async def refund(handling: Handling, command: partners.RefundPayment) -> None:
            if command.order_id not in self.charged:
                await handling.reply(NothingToRefund(order_id=command.order_id, reason="nothing was taken"))
                return
            self.refunded.add(command.order_id)
            amount, _ = self.charged[command.order_id]
            refunded = PaymentRefunded(
                order_id=command.order_id,
                customer_id="acc_ann",
                amount_minor=amount,
                currency="GBP",
                refund_id=f"re-{command.order_id}",
                refunded_at=utc_now(),
            )
            await handling.reply(refunded)

        return service


@dataclass
class FakeLoyalty:
    balances: dict[str, int] = field(default_factory=dict)

    async def service(self, *, folder: Path, broker_url: str) -> Service:
        service = await partner_service("loyalty", folder=folder, broker_url=broker_url)
        stream = service.messaging.own(Stream("LOYALTY_COMMANDS", subjects=["loyalty.commands.>"]))
        commands = service.messaging.consumer("loyalty-commands", stream=stream, subjects=["loyalty.commands.>"])

        @commands.handles(partners.AwardPoints, senders=["order"])
        async def award(handling: Handling, command: partners.AwardPoints) -> None:
            points = command.amount.amount_minor // 100
            balance = self.balances[command.customer_id] = self.balances.get(command.customer_id, 0) + points
            await handling.reply(
                PointsAwarded(
                    order_id=command.order_id,
                    customer_id=command.customer_id,
                    points=points,
                    balance=balance,
                    awarded_at=utc_now(),
                )
            )

        @commands.handles(partners.RevokePoints, senders=["order"])
        async def revoke(handling: Handling, command: partners.RevokePoints) -> None:
            await handling.reply(
                PointsRevoked(
                    order_id=command.order_id,
                    customer_id=command.customer_id,
                    points=0,
                    balance=self.balances.get(command.customer_id, 0),
                    revoked_at=utc_now(),
                    was_awarded=False,
                )
            )

        return service
