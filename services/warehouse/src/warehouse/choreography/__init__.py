"""The warehouse's part in the choreographed fulfilment: what it does when order and payment tell it things.

Nobody sends the warehouse commands for a choreographed order. It reserves the order's lines when order
asks for the order's fulfilment (``FulfilmentRequested``), dispatches when payment has taken the money
(``PaymentTaken``), and puts the stock back when the payment is declined or fails, or the order is
cancelled or rejected. It does each with the use case its command uses (``use_cases.Warehouse``),
which publishes the same events (``StockReserved``, ``OrderDispatched``, ``StockReleased``); a refusal to
reserve, which a command is answered ``OutOfStock``, is published as ``ReservationRefused``.

Choreographed orders only: the warehouse writes each down in the transaction that reserves or refuses
it, and reacts to payment's and order's events for those alone. Every other order is driven by commands
(orchestrated), so its events are acknowledged and change nothing. Once per order: the first
``FulfilmentRequested`` of an order reserves or refuses it and a repeat changes nothing (not even when a
refused order would fit now); a dispatch or release that was done is not done or announced again.
"""

from __future__ import annotations

from warehouse.choreography.handlers import ChoreographedOrders, register

__all__ = ["ChoreographedOrders", "register"]
