"""Schema of the multilateral keys: Level-I agreement rules over sides, abstention, sequences.

A Level-I agreement is the procedure algebra of votes with side names as its leaves, plus a
``weighted`` count of the sides that ratify (docs/design.md, "Multilateral and nested games").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from riskmodel.spec.priors import Number, Prior

__all__ = [
    "AGREEMENT_KEYS",
    "Abstention",
    "Agreement",
    "AgreementAll",
    "AgreementAny",
    "AgreementAtLeast",
    "AgreementNot",
    "AtLeastSides",
    "ReversionIf",
    "Weighted",
    "WeightedVote",
]

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]


class _Model(BaseModel):
    model_config = _CONFIG


class WeightedVote(_Model):
    """Sides' weights and the weight (share of the total, or absolute) the rule needs."""

    weights: dict[Name, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    threshold: Annotated[int, Field(ge=1, strict=True)] | Annotated[float, Field(gt=0, le=1, strict=True)] = (
        Field(
            description="A share of the total weight (a float in (0, 1]) or an absolute weight (an integer)."
        )
    )
    polarity: Literal["for", "against"] = "for"


class Weighted(_Model):
    """``weighted: {...}``: the weight of the sides that ratify reaches a threshold."""

    weighted: WeightedVote


class AtLeastSides(_Model):
    """At least ``k`` of the clauses ``of`` hold."""

    k: Annotated[int, Field(strict=True)]
    of: list[Agreement] = Field(min_length=1)


class AgreementAll(_Model):
    """Every clause holds."""

    all: list[Agreement] = Field(min_length=1)


class AgreementAny(_Model):
    """At least one clause holds."""

    any: list[Agreement] = Field(min_length=1)


class AgreementNot(_Model):
    """The clause does not hold."""

    not_: Agreement = Field(alias="not")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AgreementAtLeast(_Model):
    """``at_least: {k: n, of: [...]}``."""

    at_least: AtLeastSides


AGREEMENT_KEYS = ("all", "any", "not", "at_least", "weighted")

_TYPES: dict[type, str] = {
    AgreementAll: "all",
    AgreementAny: "any",
    AgreementNot: "not",
    AgreementAtLeast: "at_least",
    Weighted: "weighted",
}


def _agreement_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "side"
    if isinstance(value, BaseModel):
        return _TYPES.get(type(value))
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in AGREEMENT_KEYS else None
    return None


Agreement = Annotated[
    Annotated[Name, Tag("side")]
    | Annotated[AgreementAll, Tag("all")]
    | Annotated[AgreementAny, Tag("any")]
    | Annotated[AgreementNot, Tag("not")]
    | Annotated[AgreementAtLeast, Tag("at_least")]
    | Annotated[Weighted, Tag("weighted")],
    Discriminator(
        _agreement_kind,
        custom_error_type="agreement_form",
        custom_error_message=(
            "expected an agreement rule: a side name, or a mapping with exactly one key: all: [...], "
            "any: [...], not: ..., at_least: {k: n, of: [...]}, weighted: {weights: {...}, threshold: t}"
        ),
    ),
]
"""A boolean expression over sides' ratification outcomes."""

AtLeastSides.model_rebuild()
AgreementAll.model_rebuild()
AgreementAny.model_rebuild()
AgreementNot.model_rebuild()


class Abstention(_Model):
    """Members whose |net gain| (shocks included) is below ``band`` abstain."""

    band: Prior = Field(description="Half-width of the abstention band (utility units, >= 0).")


class ReversionIf(_Model):
    """In worlds where deal ``ratified`` is agreed, the side's reversion becomes ``then``."""

    ratified: Name
    then: dict[Name, Number] = Field(min_length=1)
