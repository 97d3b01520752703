"""The registry of model variables: every named PyMC variable the worlds are made from.

One entry per deterministic of :func:`riskmodel.model.priors.build_model` (the vector priors
``prior_*`` behind them are an implementation detail and are not listed). Each entry gives the
variable's name, its dims, the scenario field it comes from and whether it is a *random input*:
a variable that scales the idiosyncratic shocks (absences, shock scale, campaign swings), which
a common-random-number modification must leave alone (:mod:`riskmodel.worlds.crn`).

Code that reads draws (``draws[MEMBER_IDEAL]``) uses the name constants below instead of string
literals, so a renamed variable is one edit here. Pure data: no PyMC, no NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BLOC_IDEAL",
    "BLOC_PARTY_PULL",
    "BLOC_RESPONSIVENESS",
    "BLOC_SALIENCE",
    "BLOC_SPREAD",
    "BLOC_VALENCE",
    "CHAMBER_ABSENCE",
    "CHAMBER_CAMPAIGN_SHOCK",
    "CHAMBER_SHOCK_SCALE",
    "CHAMBER_TURNOUT",
    "CHIEF_IDEAL",
    "CHIEF_SALIENCE",
    "GROUP_SHIFT",
    "GROUP_SPREAD",
    "LINK_INTERACTION",
    "LOBBY_IDEAL",
    "LOBBY_INFLUENCE",
    "LOBBY_SALIENCE",
    "MEMBER_IDEAL",
    "MEMBER_Z",
    "OPTIONAL_RANDOM_INPUTS",
    "OPTIONAL_VARIABLES",
    "PUBLIC_APPROVAL",
    "PUBLIC_IDEAL",
    "PUBLIC_SALIENCE",
    "PUBLIC_SPREAD",
    "RANDOM_INPUTS",
    "VARIABLES",
    "ModelVariable",
    "ideal_of",
    "salience_of",
]


@dataclass(frozen=True)
class ModelVariable:
    """One named variable of the PyMC model.

    Attributes
    ----------
    name
        The variable's name in the model and in its draws.
    dims
        Its dims, in order (coordinates of the layout: ``bloc``, ``issue`` ...).
    source
        The scenario field it comes from (``sides[].chambers[].blocs[].ideal``).
    random_input
        Whether it scales the shocks: modifications with common random numbers keep it.
    """

    name: str
    dims: tuple[str, ...]
    source: str
    random_input: bool = False


_BLOC = "sides[].chambers[].blocs[]"
_CHAMBER = "sides[].chambers[]"
_LOBBY = "sides[].lobbies[]"
_PUBLIC = "sides[].public"
_CHIEF = "sides[].chief"

_ALL = (
    ModelVariable("bloc_ideal", ("bloc", "issue"), f"{_BLOC}.ideal"),
    ModelVariable("bloc_spread", ("bloc", "issue"), f"{_BLOC}.spread"),
    ModelVariable("bloc_party_pull", ("bloc",), f"{_BLOC}.party_pull"),
    ModelVariable("bloc_responsiveness", ("bloc",), f"{_BLOC}.responsiveness"),
    ModelVariable("bloc_valence", ("bloc",), f"{_BLOC}.valence"),
    ModelVariable("bloc_salience", ("bloc", "issue"), f"{_BLOC}.salience"),
    ModelVariable("lobby_ideal", ("lobby", "issue"), f"{_LOBBY}.ideal"),
    ModelVariable("lobby_influence", ("lobby",), f"{_LOBBY}.influence"),
    ModelVariable("lobby_salience", ("lobby", "issue"), f"{_LOBBY}.salience"),
    ModelVariable("public_ideal", ("public", "issue"), f"{_PUBLIC}.ideal"),
    ModelVariable("public_spread", ("public", "issue"), f"{_PUBLIC}.spread"),
    ModelVariable("public_approval", ("public",), f"{_PUBLIC}.approval"),
    ModelVariable("public_salience", ("public", "issue"), f"{_PUBLIC}.salience"),
    ModelVariable("chief_ideal", ("chief", "issue"), f"{_CHIEF}.ideal"),
    ModelVariable("chief_salience", ("chief", "issue"), f"{_CHIEF}.salience"),
    ModelVariable("chamber_absence", ("chamber",), f"{_CHAMBER}.absence", random_input=True),
    ModelVariable("chamber_shock_scale", ("chamber",), f"{_CHAMBER}.shock_scale", random_input=True),
    ModelVariable("chamber_turnout", ("chamber",), f"{_CHAMBER}.turnout"),
    ModelVariable("chamber_campaign_shock", ("chamber",), f"{_CHAMBER}.campaign_shock", random_input=True),
    ModelVariable("link_interaction", ("link",), "links[].interaction"),
    # members of member tables: the bloc's ideal point + the member's offset + spread × member_z
    ModelVariable(
        "member_ideal",
        ("member", "issue"),
        f"{_BLOC}.ideal, {_BLOC}.spread, {_CHAMBER}.members (offsets)",
    ),
)

VARIABLES: dict[str, ModelVariable] = {variable.name: variable for variable in _ALL}

_OPTIONAL = (
    ModelVariable("bloc_reversion", ("bloc", "issue"), f"{_BLOC}.reversion"),
    ModelVariable("bloc_common_shock", ("bloc",), f"{_BLOC}.common_shock", random_input=True),
    ModelVariable("chamber_common_shock", ("chamber",), f"{_CHAMBER}.common_shock", random_input=True),
    ModelVariable("side_common_shock", ("side",), "sides[].common_shock", random_input=True),
    ModelVariable("chamber_abstention_band", ("chamber",), f"{_CHAMBER}.abstention.band"),
    # members grouped by a member-table column (e.g. state): each group's shift and its scale
    ModelVariable("group_spread", ("group", "issue"), f"{_CHAMBER}.groups.spread"),
    ModelVariable("group_shift", ("group", "issue"), f"{_CHAMBER}.groups"),
)

OPTIONAL_VARIABLES: dict[str, ModelVariable] = {variable.name: variable for variable in _OPTIONAL}
"""Variables of the multilateral keys: in the model only when the scenario uses them, so that a
scenario without them builds exactly the model (and draws) it always did."""
"""Every named model variable, by name, in the order the builder creates them."""

BLOC_IDEAL = VARIABLES["bloc_ideal"].name
BLOC_SPREAD = VARIABLES["bloc_spread"].name
BLOC_PARTY_PULL = VARIABLES["bloc_party_pull"].name
BLOC_RESPONSIVENESS = VARIABLES["bloc_responsiveness"].name
BLOC_VALENCE = VARIABLES["bloc_valence"].name
BLOC_SALIENCE = VARIABLES["bloc_salience"].name
LOBBY_IDEAL = VARIABLES["lobby_ideal"].name
LOBBY_INFLUENCE = VARIABLES["lobby_influence"].name
LOBBY_SALIENCE = VARIABLES["lobby_salience"].name
PUBLIC_IDEAL = VARIABLES["public_ideal"].name
PUBLIC_SPREAD = VARIABLES["public_spread"].name
PUBLIC_APPROVAL = VARIABLES["public_approval"].name
PUBLIC_SALIENCE = VARIABLES["public_salience"].name
CHIEF_IDEAL = VARIABLES["chief_ideal"].name
CHIEF_SALIENCE = VARIABLES["chief_salience"].name
CHAMBER_ABSENCE = VARIABLES["chamber_absence"].name
CHAMBER_SHOCK_SCALE = VARIABLES["chamber_shock_scale"].name
CHAMBER_TURNOUT = VARIABLES["chamber_turnout"].name
CHAMBER_CAMPAIGN_SHOCK = VARIABLES["chamber_campaign_shock"].name
LINK_INTERACTION = VARIABLES["link_interaction"].name
BLOC_REVERSION = OPTIONAL_VARIABLES["bloc_reversion"].name
BLOC_COMMON_SHOCK = OPTIONAL_VARIABLES["bloc_common_shock"].name
CHAMBER_COMMON_SHOCK = OPTIONAL_VARIABLES["chamber_common_shock"].name
SIDE_COMMON_SHOCK = OPTIONAL_VARIABLES["side_common_shock"].name
CHAMBER_ABSTENTION_BAND = OPTIONAL_VARIABLES["chamber_abstention_band"].name
GROUP_SPREAD = OPTIONAL_VARIABLES["group_spread"].name
GROUP_SHIFT = OPTIONAL_VARIABLES["group_shift"].name
MEMBER_IDEAL = VARIABLES["member_ideal"].name

MEMBER_Z = "member_z"
"""The members' standardised deviations from their bloc (a latent variable, not a registry entry)."""

RANDOM_INPUTS: tuple[str, ...] = tuple(v.name for v in _ALL if v.random_input)
OPTIONAL_RANDOM_INPUTS: tuple[str, ...] = tuple(v.name for v in _OPTIONAL if v.random_input)
"""Draws that scale the shocks: a modification must leave them alone for CRN to hold."""


def ideal_of(kind: str) -> str:
    """The ideal-point variable of a kind of constituency (``bloc``, ``lobby``, ``public``, ``chief``)."""
    return VARIABLES[f"{kind}_ideal"].name


def salience_of(kind: str) -> str:
    """The salience variable of a kind of constituency."""
    return VARIABLES[f"{kind}_salience"].name
