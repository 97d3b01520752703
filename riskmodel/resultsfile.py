"""What a results file holds: the schema `riskmodel report` checks every results file against.

A results file is written by ``riskmodel run`` (:func:`riskmodel.io.save_results`). A file
that does not match — another program's netCDF, or one whose attributes were edited — is
refused with one line rather than failing deep inside the report. Attributes and variables
other than these are allowed, so results may gain fields without breaking older readers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from riskmodel.errors import escape_text

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["ESS_MIN", "REQUIRED_VARIABLES", "RHAT_MAX", "ResultsAttrs", "check_results"]

RHAT_MAX = 1.01
"""The convergence gate's limit on rank-normalised R-hat (Vehtari et al. 2021): one value for
the sampler that marks results and for the report that reads them."""

ESS_MIN = 400
"""The convergence gate's minimum bulk and tail effective sample size."""


def _json_object(text: str) -> str:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise ValueError("expected a JSON object") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError("expected a JSON object")
    return text


JsonObject = Annotated[StrictStr, pydantic.AfterValidator(_json_object)]


class ResultsAttrs(BaseModel):
    """The attributes ``riskmodel run`` writes into ``results.nc``."""

    model_config = ConfigDict(extra="allow")

    scenario_name: StrictStr = Field(max_length=300)
    scenario_title: StrictStr = Field(max_length=20_000)
    scenario_digest: StrictStr = Field(pattern=r"^[0-9a-f]{64}$")
    n_draws: StrictInt = Field(ge=1)
    chains: StrictInt = Field(ge=1, le=1024)
    n_replicates: StrictInt = Field(ge=1)
    n_worlds: StrictInt = Field(ge=1)
    seed: StrictInt = Field(ge=-1)
    evidence: Literal["prior", "posterior"]
    package_versions: JsonObject
    issue_units: JsonObject
    scenario_file: StrictStr | None = None
    convergence_gate: StrictStr | None = None


REQUIRED_VARIABLES: dict[str, tuple[str, ...]] = {
    "ratification_probability": ("side", "deal"),
    "agreement_probability": ("deal",),
    "vote_probability": ("vote", "deal"),
}
"""Variables every results file has, with the dimensions each must carry."""


def _plain(value: Any) -> Any:
    """Attributes of netCDF come back as numpy scalars or 1-element arrays; compare them as Python."""
    if isinstance(value, np.ndarray) and value.shape == (1,):
        value = value[0]
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_results(dataset: xr.Dataset) -> str | None:
    """The first way ``dataset`` differs from results as ``riskmodel run`` writes them, or ``None``."""
    attrs = {str(k): _plain(v) for k, v in dataset.attrs.items()}
    try:
        ResultsAttrs.model_validate(attrs)
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "attributes"
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"attribute '{escape_text(where)}': {escape_text(message)}"
    for name, dims in REQUIRED_VARIABLES.items():
        if name not in dataset.data_vars:
            return f"variable '{name}' is missing"
        variable = dataset[name]
        if not set(dims) <= set(variable.dims):
            return f"variable '{name}' has dimensions {tuple(map(str, variable.dims))}, expected {dims}"
        if not np.issubdtype(variable.dtype, np.floating):
            return f"variable '{name}' is {variable.dtype}, expected floating-point probabilities"
        values = variable.to_numpy()
        # NaN marks a side a deal does not evaluate (not one of its parties); anything else
        # that is not a probability means the file was not written by riskmodel
        known = values[~np.isnan(values)]
        if known.size and not (np.isfinite(known).all() and known.min() >= 0 and known.max() <= 1):
            return f"variable '{name}' holds values outside [0, 1]"
    return None
