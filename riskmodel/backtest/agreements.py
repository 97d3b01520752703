"""Agreement records: the cited terms of each US trade agreement before it was voted on.

The records live in ``data/agreements/agreements.yaml`` (coding manual:
``data/agreements/README.md``). Each field is ``{value, source, date}``; this module checks
the file (every source cited exists, no field is dated after the record's information
cut-off), finds a record by the roll-call index's ``label`` and turns a record into a deal
point and a reversion point on the issues :data:`ISSUES`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskmodel.errors import RiskmodelError, did_you_mean

__all__ = [
    "AGREEMENTS_FILE",
    "ISSUES",
    "Agreement",
    "AgreementBook",
    "deal_point",
    "load_agreements",
    "reversion_point",
]

AGREEMENTS_FILE = Path(__file__).resolve().parents[2] / "data" / "agreements" / "agreements.yaml"

ISSUES = ("labour", "environment", "opening")
"""The issues a record places its deal and reversion on (scales in the coding manual)."""

_CONFIG = ConfigDict(extra="forbid", frozen=True)

Position = Literal["support", "oppose", "split", "neutral", "unknown"]


class Cited[T](BaseModel):
    """One coded value with its source key and the date it was public."""

    model_config = _CONFIG
    value: T
    source: str
    date: dt.date
    judgement: bool = False
    note: str | None = None


class Leader(BaseModel):
    """A party's floor leadership in one chamber and its announced position."""

    model_config = _CONFIG
    party: Literal["D", "R"]
    position: Cited[Position]


class ChamberLeadership(BaseModel):
    model_config = _CONFIG
    majority: Leader
    minority: Leader


class Terms(BaseModel):
    model_config = _CONFIG
    labour: float = Field(ge=0, le=4)
    environment: float = Field(ge=0, le=4)
    opening: float = Field(ge=0, le=1)


class Agreement(BaseModel):
    """One agreement record (fields as in the coding manual)."""

    model_config = _CONFIG
    label: str
    agreement: str
    as_of: dt.date
    measure: Cited[Literal["implementing_bill", "negotiating_authority", "normal_trade_relations"]]
    partners: Cited[list[str]]
    partner_income: Cited[Literal["high", "upper_middle", "lower_middle", "low", "mixed", "none"]]
    president_party: Cited[Literal["D", "R"]]
    labour: Cited[int] = Field(description="0-4 enforceability scale")
    environment: Cited[int]
    opening: Cited[float]
    reversion: Cited[Literal["status_quo", "annual_review", "withdrawal_threat"]]
    reversion_terms: Terms
    leadership: dict[Literal["house", "senate"], ChamberLeadership]
    note: str | None = None

    def cited(self) -> list[tuple[str, Cited[Any]]]:
        """Every cited field as ``(place, field)``."""
        fields: list[tuple[str, Cited[Any]]] = [
            (name, getattr(self, name))
            for name in (
                "measure",
                "partners",
                "partner_income",
                "president_party",
                "labour",
                "environment",
                "opening",
                "reversion",
            )
        ]
        for chamber, lead in self.leadership.items():
            fields.append((f"leadership.{chamber}.majority.position", lead.majority.position))
            fields.append((f"leadership.{chamber}.minority.position", lead.minority.position))
        return fields

    def check_known_before(self, day: dt.date | np.datetime64 | Any, *, chamber: str | None = None) -> None:
        """Raise unless every field a forecast of a vote on ``day`` uses was public before it.

        The terms and the president are used for every vote; leadership only for ``chamber``
        (``house``/``senate``; ``None``: both).
        """
        day = _as_date(day)
        for place, field in self.cited():
            if (
                place.startswith("leadership.")
                and chamber is not None
                and not place.startswith(f"leadership.{chamber}.")
            ):
                continue
            if field.date >= day:
                raise RiskmodelError(
                    f"{AGREEMENTS_FILE.name}: agreement '{self.label}', {place}: dated {field.date}, "
                    f"not before the vote of {day} (the information rule of data/agreements/README.md)"
                )


def _as_date(day: Any) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    import pandas as pd

    return pd.Timestamp(day).date()


class AgreementBook:
    """The records of one agreements file, looked up by label."""

    def __init__(self, records: list[Agreement], sources: dict[str, str], path: Path) -> None:
        self.records = {r.label: r for r in records}
        self.sources = sources
        self.path = path

    def __getitem__(self, label: str) -> Agreement:
        try:
            return self.records[label]
        except KeyError:
            raise RiskmodelError(
                f"{self.path}: no agreement record with label '{label}' (a vote on it cannot be "
                f"forecast without its terms){did_you_mean(label, self.records)}"
            ) from None

    def __contains__(self, label: object) -> bool:
        return label in self.records

    def labels(self) -> list[str]:
        """Every label, in file order."""
        return list(self.records)


def load_agreements(path: str | Path | None = None) -> AgreementBook:
    """Read and check an agreements file (default: the bundled one).

    Raises :class:`RiskmodelError` naming the file, the record and the field on bad input.
    """
    file = Path(path) if path is not None else AGREEMENTS_FILE
    return _load(file.resolve())


@cache
def _load(file: Path) -> AgreementBook:
    try:
        raw = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RiskmodelError(f"{file}: cannot read agreement records ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("agreements"), list):
        raise RiskmodelError(f"{file}: expected a mapping with an 'agreements' list")
    sources = raw.get("sources") or {}
    records = []
    for k, item in enumerate(raw["agreements"]):
        label = item.get("label", f"#{k}") if isinstance(item, dict) else f"#{k}"
        try:
            record = Agreement.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise RiskmodelError(f"{file}: agreements[{k}] ('{label}').{where}: {first['msg']}") from None
        for place, field in record.cited():
            if field.source not in sources:
                raise RiskmodelError(
                    f"{file}: agreements[{k}] ('{label}').{place}.source: unknown source "
                    f"'{field.source}'{did_you_mean(field.source, sources)}"
                )
        records.append(record)
    labels = [r.label for r in records]
    if len(set(labels)) != len(labels):
        raise RiskmodelError(f"{file}: duplicate labels among agreements")
    return AgreementBook(records, sources, file)


def deal_point(record: Agreement) -> npt.NDArray[np.float64]:
    """The record's deal on :data:`ISSUES` (labour, environment, opening)."""
    return np.array([record.labour.value, record.environment.value, record.opening.value], dtype=np.float64)


def reversion_point(record: Agreement) -> npt.NDArray[np.float64]:
    """What a failed vote leaves in place, on :data:`ISSUES`."""
    t = record.reversion_terms
    return np.array([t.labour, t.environment, t.opening], dtype=np.float64)
