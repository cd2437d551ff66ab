"""The search engine's SQL side: the syntax trees of ``gemini.query`` compiled for SQLite and PostgreSQL.

- ``containment``: ``info @> pattern`` on both databases;
- ``compiler``: ``where`` and ``order_by`` to SQL expressions; ``cursors``: keyset page tokens;
- ``run_search``: the repository that runs a search on a connection;
- ``path_values``: SQLite's (path, value) index for equality; ``hot_keys``: declared indexes for ranges
  and sorting; ``json_paths``: how both spell a path of keys.
"""
