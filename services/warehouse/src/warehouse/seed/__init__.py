"""The opening stock, loaded by migration 0002: a quantity for each SKU the catalog opened with.

The SKUs are a copy of the catalog's seed (a service never reads another's code or data). Every tenth
is sold out and every tenth from the fifth has its last copy, so both can be shown from the start.
"""
