"""Loyalty's part in the choreographed fulfilment: it follows order's and payment's events and awards and
revokes the points of the orders order announced as choreographed (``fulfilment.py`` says how;
``handlers.py`` turns each event into a call)."""
