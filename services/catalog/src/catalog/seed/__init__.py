"""The seed catalogue, loaded by migration 0002."""
