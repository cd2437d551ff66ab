"""Records (``gemini.domain.records``) from the JSON the server answers with."""

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from gemini.domain.records import ApiTokenRecord, ExperimentRecord, ModelRecord, ModelRunRecord, ModelVersionRecord

Record = TypeVar("Record")


def _when(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _id(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _converter(name: str) -> Callable[[Any], Any] | None:
    if name == "id" or name.endswith("_id"):
        return _id
    if name.endswith("_at"):
        return _when
    if name == "aliases":
        return tuple
    return None


def _reader(record_type: type[Record]) -> Callable[[dict[str, Any]], Record]:
    """A function building ``record_type`` from an answer: fields the answer lacks keep their default,
    fields only the answer has are ignored."""
    fields = [(f.name, _converter(f.name)) for f in dataclasses.fields(record_type)]

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
