from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from order.cards import CardKeyError, CardVault

from .fakes import VISA

KEY = Fernet.generate_key().decode()


def test_a_sealed_card_opens_with_the_key_and_shows_none_of_its_digits() -> None:
    """What is stored does not contain the number, and opens back into it."""
    vault = CardVault(KEY)
    sealed = vault.seal(VISA)
    assert VISA.digits.encode() not in sealed and VISA.last4.encode() not in sealed
    assert vault.open(sealed) == VISA


def test_a_card_sealed_with_another_key_does_not_open() -> None:
    """A changed key is an error saying so, not a wrong card number."""
    sealed = CardVault(Fernet.generate_key().decode()).seal(VISA)
    with pytest.raises(CardKeyError, match="PAVED_ORDER_CARD_KEY"):
        CardVault(KEY).open(sealed)


def test_the_keyed_hash_is_stable_for_one_key_and_differs_across_keys() -> None:
    """Fingerprints of one request agree within a deployment and cannot be recomputed without its key."""
    assert CardVault(KEY).keyed_hash(b"request") == CardVault(KEY).keyed_hash(b"request")
    assert CardVault(KEY).keyed_hash(b"request") != CardVault(Fernet.generate_key().decode()).keyed_hash(b"request")
    assert CardVault(KEY).keyed_hash(b"request") != CardVault(KEY).keyed_hash(b"request!")
