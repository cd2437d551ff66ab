"""The ground floor: what every other layer agrees on, importing nothing from the database or HTTP layers.

``errors`` (the one hierarchy and its table of kinds and HTTP statuses), ``records`` (the immutable
records that cross the registry's contract, and ``Page``), ``statuses``, ``limits``, ``numbers`` (how
JSON spells NaN and the infinities), ``checks`` (the pure input checks, run once before dispatch) and
``wire`` (the REST API version a client and its server agree on).
"""
