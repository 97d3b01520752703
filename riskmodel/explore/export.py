"""Keep what the explorer found: the current deal as a named deal in a new scenario file, and its report.

The new file is the original scenario's text with one more item in ``deals`` (comments and
sources kept), written atomically and never over an existing file. Its results are those of
``riskmodel run NEW_FILE`` with the explorer's seed and sizes: the added deal does not enter
the model, so the worlds are the explorer's own and are reused rather than re-sampled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from riskmodel.errors import RiskmodelError
from riskmodel.explore.state import DealError, Explorer
from riskmodel.io import save_results, write_atomic
from riskmodel.model.layout import build_layout
from riskmodel.pipeline import evaluate_deals
from riskmodel.results.tables import summary_table
from riskmodel.spec.scenario import LoadedScenario, parse_scenario

__all__ = [
    "NAME_PATTERN",
    "ReportPaths",
    "new_scenario_path",
    "report_payload",
    "scenario_with_deal",
    "write_deal_report",
    "write_deal_scenario",
]

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
"""A deal name as the scenario schema accepts it."""
MAX_LABEL = 300
_DEALS_KEY = re.compile(r"^deals:\s*(#.*)?$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")
_ITEM = re.compile(r"^(\s*)- ")


def _deal_item(indent: str, name: str, label: str, values: dict[str, float], note: str) -> list[str]:
    # repr() of a float round-trips exactly, so the file holds the very values evaluated
    flow = ", ".join(f"{issue}: {value!r}" for issue, value in values.items())
    return [
        f"{indent}- name: {name}",
        f"{indent}  label: {json.dumps(label, ensure_ascii=False)}",
        f"{indent}  values: {{{flow}}}",
        f"{indent}  source: {json.dumps(note, ensure_ascii=False)}",
    ]


def scenario_with_deal(text: str, *, name: str, label: str, values: dict[str, float], note: str) -> str:
    """The scenario's YAML text with one more named deal, comments and layout kept.

    A block-style ``deals:`` list gets the item appended at its own indentation; any other
    layout (a flow list, say) is re-written from the parsed data, which drops its comments.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _DEALS_KEY.match(line)), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
        items = [m.group(1) for line in lines[start + 1 : end] if (m := _ITEM.match(line))]
        if items:
            last = end
            while last > start + 1 and (
                not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")
            ):
                last -= 1
            new = _deal_item(items[0], name, label, values, note)
            return "\n".join([*lines[:last], *new, *lines[last:]]) + "\n"
    raw = yaml.safe_load(text)
    raw.setdefault("deals", []).append({"name": name, "label": label, "values": values, "source": note})
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


def _check_name(explorer: Explorer, name: object, label: object) -> tuple[str, str]:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DealError(
            "name: expected a deal name (a letter, then up to 63 letters, digits, '_' or '-'), "
            f"got {name!r:.80}"
        )
    if name in explorer.layout.deals:
        raise DealError(f"name: the scenario already has a deal called '{name}'", status=409)
    if label is None or label == "":
        label = name
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise DealError(f"label: expected text of at most {MAX_LABEL} characters")
    return name, label


def new_scenario_path(explorer: Explorer, name: str) -> Path:
    """Where the scenario holding deal ``name`` is written: ``OUT_DIR/<scenario file>-<name>.yaml``."""
    return explorer.out_dir / f"{explorer.scenario_path.stem}-{name}.yaml"


def _load_new(explorer: Explorer, text: str, path: Path) -> LoadedScenario:
    try:
        return parse_scenario(text, file=path, base_dir=path.parent)
    except RiskmodelError as exc:
        # member tables are read relative to the file: another folder may not hold them
        raise DealError(f"the new scenario would not load from {path.parent}: {exc}", status=409) from None


def write_deal_scenario(
    explorer: Explorer, name: object, label: object, deal: npt.NDArray[np.float64]
) -> tuple[Path, LoadedScenario]:
    """Write the scenario with ``deal`` added as a named deal to a new file; never overwrite.

    Raises
    ------
    DealError
        Bad name or label, a deal of that name already in the scenario, or the file exists.
    """
    name, label = _check_name(explorer, name, label)
    path = new_scenario_path(explorer, name)
    if path.exists():
        raise DealError(f"{path} already exists; choose another name", status=409)
    values = dict(zip(explorer.layout.issues, (float(v) for v in deal), strict=True))
    today = dt.datetime.now(dt.UTC).date().isoformat()
    note = f"Written by riskmodel explore on {today} from {explorer.scenario_path.name}."
    original = explorer.scenario_path.read_text(encoding="utf-8")
    text = scenario_with_deal(original, name=name, label=label, values=values, note=note)
    loaded = _load_new(explorer, text, path)
    added = build_layout(loaded)
    if added.deals[-1] != name or not np.array_equal(added.deal_values[-1], deal):
        raise DealError(f"the new scenario does not hold deal '{name}' exactly as evaluated", status=500)
    with explorer.lock:
        if path.exists():
            raise DealError(f"{path} already exists; choose another name", status=409)
        write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path, loaded


def _saved_scenario(
    explorer: Explorer, path: Path, name: str, deal: npt.NDArray[np.float64]
) -> LoadedScenario:
    """A scenario file saved earlier for this deal (the same name and values), to report on."""
    loaded = _load_new(explorer, path.read_text(encoding="utf-8"), path)
    saved = build_layout(loaded)
    if name not in saved.deals or not np.array_equal(saved.deal_values[saved.deals.index(name)], deal):
        raise DealError(
            f"{path} already exists and holds another deal '{name}'; choose another name", status=409
        )
    return loaded


@dataclasses.dataclass(frozen=True)
class ReportPaths:
    """What :func:`write_deal_report` wrote."""

    scenario: Path
    results: Path
    html: Path | None
    pdf: Path | None
    warnings: list[str]


def write_deal_report(
    explorer: Explorer,
    name: object,
    label: object,
    deal: npt.NDArray[np.float64],
    *,
    step: Callable[[str], None] | None = None,
) -> ReportPaths:
    """Write the scenario holding the deal, its results and its HTML and PDF report.

    The results are those of ``riskmodel run`` on the new file with the explorer's seed and
    worlds; they go to a new folder ``OUT_DIR/<scenario file>-<name>/`` with ``summary.csv``,
    ``report.html`` and ``report.pdf``.
    """
    from riskmodel.report import write_report

    name, label = _check_name(explorer, name, label)
    folder = explorer.out_dir / f"{explorer.scenario_path.stem}-{name}"
    try:  # mkdir is atomic: two reports of one name cannot both claim the folder
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise DealError(f"{folder} already exists; choose another name", status=409) from None
    path = new_scenario_path(explorer, name)
    loaded = _saved_scenario(explorer, path, name, deal) if path.exists() else None
    if loaded is None:
        path, loaded = write_deal_scenario(explorer, name, label, deal)
    if step is not None:
        step("Evaluating the scenario's deals")
    simulation = dataclasses.replace(explorer.simulation, layout=build_layout(loaded))
    with explorer.lock:
        results = evaluate_deals(simulation)
    results.attrs["scenario_file"] = str(path.resolve())
    results_path = save_results(results, folder / "results.nc")
    table = summary_table(results)
    write_atomic(folder / "summary.csv", lambda tmp: table.to_csv(tmp, index=False))
    if step is not None:
        step("Rendering the HTML and PDF report")
    files = write_report(results_path)
    return ReportPaths(
        scenario=path, results=results_path, html=files.html, pdf=files.pdf, warnings=list(files.warnings)
    )


def report_payload(paths: ReportPaths) -> dict[str, Any]:
    """The paths written, as text for the page."""
    return {
        "scenario": str(paths.scenario),
        "results": str(paths.results),
        "html": str(paths.html) if paths.html else None,
        "pdf": str(paths.pdf) if paths.pdf else None,
        "warnings": paths.warnings,
    }
