"""The card vault: card numbers sealed with AES-256-GCM under the service's card key, bound to their order.

A sealed number is ``version || nonce || ciphertext-and-tag``; the order id is the associated data, so a
sealed number copied onto another payment does not open. The version byte leaves room for a second key
during a rotation.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payment.cards import CardNumber, CardUnreadableError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class AesGcmVault:
    """Seals and opens card numbers with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the card key is 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def seal(self, card: CardNumber, *, order_id: str) -> bytes:
        """The card number, unreadable without the key, for ``order_id`` only."""
        nonce = os.urandom(_NONCE_BYTES)  # random per seal: a nonce must never repeat under one key
        return _VERSION + nonce + self._aead.encrypt(nonce, card.digits.encode(), order_id.encode())

    def open(self, sealed: bytes, *, order_id: str) -> CardNumber:
        """The card number sealed for ``order_id``; ``CardUnreadableError`` if the key or the order differs."""
        if not sealed.startswith(_VERSION):
            raise CardUnreadableError("the sealed card number is of an unknown version")
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            digits = self._aead.decrypt(nonce, ciphertext, order_id.encode())
        except InvalidTag as exc:
            raise CardUnreadableError("the card number was sealed with another key, or for another order") from exc
        return CardNumber(digits.decode())
