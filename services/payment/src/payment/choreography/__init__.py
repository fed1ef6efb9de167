"""Payment's part in the choreographed fulfilment: what it hears of an order (``domain``) and the messages it
takes for it (``handlers``); the use cases are the card keeper's, in ``payment.use_cases``."""
