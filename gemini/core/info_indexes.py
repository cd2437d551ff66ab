"""Hot keys: info paths the user declares for fast ranges and sorting (``gemini db index add params.lr``).

Declaring one builds an index on both databases (see ``gemini.db.search.hot_keys``); searches use it without
being told. Equality on any path needs no declaration: PostgreSQL's GIN index and SQLite's
(path, value) table already serve it.
"""

from dataclasses import dataclass
import datetime as dt

from gemini.db.engine import unit_of_work
from gemini.db.search import hot_keys
from gemini.db.tables import utc_now
from gemini.query import parse_path
from gemini.query.ast import InfoPath


@dataclass(frozen=True, slots=True)
class HotKey:
    path: str
    """The path as the language writes it, e.g. ``params.lr``."""
    index_name: str
    created_at: dt.datetime


def add_hot_key(*, path: str) -> bool:
    """Declare ``path`` hot and build its index; ``False`` when it already was. Building reads every run
    once and holds the write lock meanwhile."""
    keys = parse_path(path).keys
    with unit_of_work(write=True) as connection:
        return hot_keys.create_hot_key(connection, keys, utc_now())


def drop_hot_key(*, path: str) -> bool:
    """Drop the index of a hot key; ``False`` when ``path`` was not declared."""
    keys = parse_path(path).keys
    with unit_of_work(write=True) as connection:
        return hot_keys.drop_hot_key(connection, keys)


def list_hot_keys() -> list[HotKey]:
    """The declared hot keys, oldest first."""
    with unit_of_work() as connection:
        return [
            HotKey(str(InfoPath(key.keys)), key.index_name, key.created_at)
            for key in hot_keys.list_hot_keys(connection)
        ]
