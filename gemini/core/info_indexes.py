"""Hot keys: info paths the user declares for fast ranges and sorting (``gemini db index add params.lr``).

Declaring one builds an index on both databases (see ``gemini.db.info_index``); searches use it without
being told. Equality on any path needs no declaration: PostgreSQL's GIN index and SQLite's
(path, value) table already serve it.
"""

from dataclasses import dataclass
import datetime as dt

from gemini.core.query import parse_path
from gemini.core.query.ast import InfoPath
from gemini.db import info_index
from gemini.db.engine import unit_of_work
from gemini.db.tables import utc_now


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
        return info_index.create_hot_key(connection, keys, utc_now())


def drop_hot_key(*, path: str) -> bool:
    """Drop the index of a hot key; ``False`` when ``path`` was not declared."""
    keys = parse_path(path).keys
    with unit_of_work(write=True) as connection:
        return info_index.drop_hot_key(connection, keys)


def list_hot_keys() -> list[HotKey]:
    """The declared hot keys, oldest first."""
    with unit_of_work() as connection:
        return [
            HotKey(str(InfoPath(keys)), f"ix_model_runs_{name}", created_at)
            for keys, name, created_at in info_index.list_hot_keys(connection)
        ]
