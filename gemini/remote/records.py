"""Records (``gemini.domain.records``) from the JSON the server answers with."""

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from gemini.domain.records import (
    ApiTokenRecord,
    ExperimentRecord,
    ModelOutputRecord,
    ModelRecord,
    ModelRunRecord,
    ModelVersionRecord,
)

Record = TypeVar("Record")


def _when(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _id(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _converter(name: str) -> Callable[[Any], Any] | None:
    if name == "id" or name.endswith("_id"):
        return _id
    if name.endswith("_at") or name == "timestamp":
        return _when
    if name.endswith("_date"):
        return _date
    if name == "aliases":
        return tuple
    return None


def _reader(record_type: type[Record]) -> Callable[[dict[str, Any]], Record]:
    """A function building ``record_type`` from an answer: fields the answer lacks keep their default,
    fields only the answer has are ignored."""
    names = record_type._fields if hasattr(record_type, "_fields") else [f.name for f in dataclasses.fields(record_type)]
    fields = [(name, _converter(name)) for name in names]

    def read(data: dict[str, Any]) -> Record:
        values = {}
        for name, convert in fields:
            if name in data:
                value = data[name]
                values[name] = convert(value) if convert is not None else value
        return record_type(**values)

    return read


run = _reader(ModelRunRecord)
model = _reader(ModelRecord)
experiment = _reader(ExperimentRecord)
token = _reader(ApiTokenRecord)
model_version = _reader(ModelVersionRecord)
model_output = _reader(ModelOutputRecord)
