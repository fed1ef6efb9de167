"""The choreographed fulfilment, as order takes part in it: nobody drives it, everybody reacts.

A choreographed order publishes ``order.FulfilmentRequested`` (and sends payment its card) when it is
placed; the warehouse reserves, payment charges once the stock is reserved, loyalty awards once the
payment is taken, the warehouse dispatches once it is paid, and each says so in its events. order follows
those events to keep its own order's status, history and facts (``handlers``, with the same ``Order``
actions the orchestrated saga's changes call, chosen by ``following``), and keeps paved's saga view of the
whole process (``view``), so that ``paved sagas show ord-…`` answers "where is it?" for both styles
(docs/sagas.md).

Events of orchestrated orders pass by too (partners publish them either way): order's reaction ignores
them, and the view leaves them to the orchestrated saga that owns their id.
"""
