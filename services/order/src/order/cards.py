"""Card numbers at rest: sealed with the service's key, so that order's database never holds one readable.

Order needs a card number after the request that gave it has been answered: payment is asked only
once the stock is reserved, by whichever instance the warehouse's answer reaches, and asked again if it
does not answer. So the number waits, sealed (Fernet: AES-128-CBC with HMAC-SHA256), in a table of its
own, and is deleted as soon as payment can no longer be asked (``fulfilment.Progress``). A real shop
keeps no card numbers at all: the storefront hands the card to the payment provider, which gives back a
token, and the token is what order would keep and pass on.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from order.domain import CardNumber


class CardKeyError(Exception):
    """A sealed card number does not open with the service's key (the key was changed)."""


class CardVault:
    """Seals and opens card numbers, and hashes requests that contain them, with one secret key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        # A key of its own for hashing, derived so that one setting holds one secret.
        self._hash_key = hashlib.sha256(b"order request fingerprint\x00" + key.encode()).digest()

    def seal(self, card: CardNumber) -> bytes:
        """The card number encrypted and authenticated with the service's key."""
        return self._fernet.encrypt(card.digits.encode())

    def open(self, sealed: bytes) -> CardNumber:
        """The card number ``seal`` made ``sealed`` from; ``CardKeyError`` if the key differs."""
        try:
            return CardNumber(self._fernet.decrypt(sealed).decode())
        except InvalidToken as exc:
            raise CardKeyError("a stored card number does not open with PAVED_ORDER_CARD_KEY") from exc

    def keyed_hash(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data``: equal for equal data, and no use to whoever lacks the key."""
        return hmac.new(self._hash_key, data, hashlib.sha256).hexdigest()
