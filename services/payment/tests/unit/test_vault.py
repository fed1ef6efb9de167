from __future__ import annotations

import os

import pytest

from payment.cards import CardNumber, CardUnreadableError
from payment.vault import AesGcmVault

CARD = CardNumber("4242424242424242")


def test_a_sealed_card_opens_for_its_order_only() -> None:
    """A card sealed for one order opens for that order, and not for another."""
    vault = AesGcmVault(os.urandom(32))
    sealed = vault.seal(CARD, order_id="o-1")
    assert vault.open(sealed, order_id="o-1") == CARD
    with pytest.raises(CardUnreadableError):
        vault.open(sealed, order_id="o-2")


def test_a_sealed_card_does_not_show_its_number() -> None:
    """The sealed bytes contain neither the number nor its digits in any obvious form, and differ each time."""
    vault = AesGcmVault(os.urandom(32))
    first, second = vault.seal(CARD, order_id="o-1"), vault.seal(CARD, order_id="o-1")
    assert CARD.digits.encode() not in first
    assert first != second  # a fresh nonce each time


def test_a_card_sealed_under_another_key_does_not_open() -> None:
    """A vault with another key cannot open what the first sealed (a changed key is found out, not misread)."""
    sealed = AesGcmVault(os.urandom(32)).seal(CARD, order_id="o-1")
    with pytest.raises(CardUnreadableError):
        AesGcmVault(os.urandom(32)).open(sealed, order_id="o-1")


def test_tampered_or_unknown_sealed_bytes_do_not_open() -> None:
    """A flipped bit or an unknown version byte is refused, never opened into some other number."""
    vault = AesGcmVault(os.urandom(32))
    sealed = bytearray(vault.seal(CARD, order_id="o-1"))
    sealed[-1] ^= 1
    with pytest.raises(CardUnreadableError):
        vault.open(bytes(sealed), order_id="o-1")
    with pytest.raises(CardUnreadableError):
        vault.open(b"\x02" + bytes(sealed[1:]), order_id="o-1")


def test_a_key_of_the_wrong_size_is_refused() -> None:
    """Only a 256-bit key is accepted."""
    with pytest.raises(ValueError, match="32 bytes"):
        AesGcmVault(b"short")
