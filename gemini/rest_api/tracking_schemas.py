"""Bodies of the tracking endpoints: starting and ending runs, metric batches, histories, summaries.

JSON has no NaN or infinity: such values travel as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, both ways (a request may also use the bare ``NaN``/``Infinity`` tokens Python writes).

A metric batch comes in two forms: rows (``MetricBatch``: an object per point) and columns
(``MetricColumns``: an array per field, what ``gemini.remote`` sends), read without an object per point.
"""

import datetime as dt
import math
import uuid
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt

from gemini.domain.checks import PointColumns
from gemini.domain.errors import InvalidInputError
from gemini.domain.limits import MAX_BATCH_ID_LENGTH
from gemini.domain.numbers import NON_FINITE_TEXT, json_value
from gemini.domain.records import MetricPoint, MetricSeries, MetricSummary
from gemini.domain.statuses import END_STATUSES, FINISHED
from gemini.rest_api.schemas import RUN_INFO_EXAMPLE, Info, Name, PublicSchema, Schema

# Built from the domain's tables, so that the schema cannot drift from what the registry accepts.
NonFinite = Literal[tuple(NON_FINITE_TEXT)]  # type: ignore[valid-type]
_INFINITE_TEXT = tuple(text for text, value in NON_FINITE_TEXT.items() if not math.isnan(value))
Infinite = Literal[_INFINITE_TEXT]  # type: ignore[valid-type]
EndStatus = Literal[END_STATUSES]  # type: ignore[valid-type]


def _text_only(value: object) -> object:
    # Pydantic reads a number as seconds since 1970: a step or a value sent in the wrong field would
    # become a date. A moment is a string.
    if not isinstance(value, (str, dt.datetime)):
        raise ValueError("must be an ISO 8601 date and time with its offset, e.g. '2026-11-30T19:00:00Z'")
    return value


Moment = Annotated[dt.datetime, BeforeValidator(_text_only)]
MetricValue = Annotated[
    StrictFloat | StrictInt | NonFinite,
    Field(description="A number, or " + ", ".join(f'"{text}"' for text in NON_FINITE_TEXT) + "."),
]


def value_in(value: float | int | str) -> float | int:
    """The number a request's value stands for (the registry checks that it fits a float)."""
    return NON_FINITE_TEXT[value] if isinstance(value, str) else value


value_out = json_value


class TrackedRunStart(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"model_run_info": RUN_INFO_EXAMPLE, "model_name": "stand-counter"}]},
    )

    model_run_info: Info = Field(default_factory=dict, description="Free JSON object, kept exactly as given.")
    model_name: Name | None = Field(
        default=None, description="The model the run belongs to, created if missing; none if omitted."
    )
    run_name: str | None = Field(default=None, description="The run's readable name (`train2`); none if omitted.")


class TrackedRunEnd(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "finished"},
                {"status": "failed", "error_type": "RuntimeError", "error_message": "loss diverged"},
            ]
        },
    )

    status: EndStatus = FINISHED
    error_type: str | None = Field(default=None, description="For a failed run: the type of the error.")
    error_message: str | None = Field(default=None, description="For a failed run: what went wrong.")
    ended_at: Moment | None = Field(
        default=None,
        description="When the run ended by the client's clock (an end sent late); kept between the run's "
        "start and now. Now when omitted.",
    )


class MetricPointIn(Schema):
    key: str = Field(min_length=1, description="Free text, e.g. 'metrics/mAP50(B)'.")
    step: StrictInt = Field(ge=0, description="An integer step (epoch, iteration), from 0.")
    value: MetricValue
    timestamp: Moment | None = Field(default=None, description="When it was measured; now when omitted.")


class MetricBatch(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "5f0c3a7e9b2d4c1f8e6a0b9c7d5e3f21",
                    "points": [
                        {"key": "loss", "step": 0, "value": 0.91, "timestamp": "2026-11-30T19:00:00Z"},
                        {"key": "metrics/mAP50(B)", "step": 0, "value": 0.41},
                        {"key": "loss", "step": 1, "value": "NaN"},
                    ],
                }
            ]
        },
    )

    batch_id: str = Field(
        min_length=1,
        max_length=MAX_BATCH_ID_LENGTH,
        description="Chosen by the client, unique per batch of the run: a batch sent again is not applied twice.",
    )
    points: list[MetricPointIn] = Field(description="Points of this run; a (key, step) given twice keeps the last.")


_BATCH_ID_DESCRIPTION = MetricBatch.model_fields["batch_id"].description
Seconds = Annotated[
    StrictFloat | StrictInt | None, Field(description="Seconds since 1970-01-01T00:00:00Z; null for now.")
]


class MetricColumns(Schema):
    """A metric batch as columns: one array per field, entry i of each array being point i."""

    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "5f0c3a7e9b2d4c1f8e6a0b9c7d5e3f21",
                    "keys": ["loss", "metrics/mAP50(B)", "loss"],
                    "steps": [0, 0, 1],
                    "values": [0.91, 0.41, "NaN"],
                    "timestamps": [1796065200.0, 1796065200.0, 1796065201.25],
                }
            ]
        },
    )

    batch_id: str = Field(min_length=1, max_length=MAX_BATCH_ID_LENGTH, description=_BATCH_ID_DESCRIPTION)
    keys: list[Annotated[str, Field(min_length=1)]] = Field(
        description="Each point's key: free text, e.g. 'metrics/mAP50(B)'."
    )
    steps: list[Annotated[StrictInt, Field(ge=0)]] = Field(
        description="Each point's step: an integer (epoch, iteration), from 0."
    )
    values: list[MetricValue] = Field(description="Each point's value.")
    timestamps: list[Seconds] | None = Field(
        default=None, description="When each point was measured; all now when omitted."
    )

    def point_columns(self) -> PointColumns:
        """The columns as the registry checks them: values as numbers, timestamps as aware datetimes."""
        values = [NON_FINITE_TEXT[value] if type(value) is str else value for value in self.values]
        return PointColumns(self.keys, self.steps, values, None if self.timestamps is None else moments(self.timestamps))


_UTC = dt.timezone.utc


def moments(seconds: list[float | int | None]) -> list[dt.datetime | None]:
    """Seconds since 1970 as aware UTC datetimes (``None`` kept: now). The points of one logging call
    share their moment, so each distinct number is converted once."""
    converted: dict[float | int | None, dt.datetime | None] = {}
    for second in set(seconds):
        try:
            converted[second] = None if second is None else dt.datetime.fromtimestamp(second, _UTC)
        except (OverflowError, OSError, ValueError) as exc:
            place = seconds.index(second)
            raise InvalidInputError(f"timestamps[{place}]: {second!r} seconds since 1970 is out of range") from exc
    return [converted[second] for second in seconds]


class MetricBatchResult(PublicSchema):
    batch_id: str
    written: bool = Field(description="false when this batch had been written before (nothing changed).")


class MetricPointPublic(PublicSchema):
    step: int
    value: float | NonFinite
    timestamp: dt.datetime

    @classmethod
    def of(cls, point: MetricPoint) -> "MetricPointPublic":
        return cls.model_construct(step=point.step, value=value_out(point.value), timestamp=point.timestamp)


class MetricSummaryPublic(PublicSchema):
    key: str
    last: float | NonFinite = Field(description="The value at the highest step.")
    min: float | Infinite | None = Field(description="Lowest value, NaN skipped; null if all NaN.")
    max: float | Infinite | None = Field(description="Highest value, NaN skipped; null if all NaN.")
    step: int = Field(description="The highest step logged.")
    count: int = Field(description="How many points (steps) the key has.")

    @classmethod
    def of(cls, summary: MetricSummary) -> "MetricSummaryPublic":
        return cls(
            key=summary.key,
            last=value_out(summary.last),
            min=value_out(summary.min),
            max=value_out(summary.max),
            step=summary.step,
            count=summary.count,
        )


class MetricSeriesPublic(PublicSchema):
    """One run's series of a key, as columns (one entry a point, by step)."""

    run_id: uuid.UUID
    steps: list[int]
    values: list[float | NonFinite]
    timestamps: list[float] = Field(description="Seconds since 1970-01-01 UTC.")
    reduced: bool = Field(
        description="true when the range held more than max_points points and was reduced: each block of steps "
        "keeps its first, lowest, highest and last point, NaN points left out."
    )

    @staticmethod
    def columns(run_id: uuid.UUID, series: MetricSeries) -> dict[str, Any]:
        """The JSON of one series, built without a model per point."""
        values = series.values
        if not all(map(math.isfinite, values)):
            values = [value_out(value) for value in values]
        return {"run_id": str(run_id), "steps": series.steps, "values": values, "timestamps": series.timestamps, "reduced": series.reduced}
