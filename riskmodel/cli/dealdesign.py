"""``riskmodel linkage``, ``sidepay`` and ``bargain``: deal design, side payments, Level-I bargaining.

Registered by :mod:`riskmodel.cli.app`. Each command samples the scenario's worlds (the
same worlds as ``riskmodel run`` with the same seed), calls one public function, prints tables
and writes its results beside the run's (``reports/<scenario name>/`` by default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from riskmodel.cli.common import console, fail
from riskmodel.cli.options import (
    OutOption,
    ReplicatesOption,
    SeedOption,
    WorldsOption,
    load_and_sample,
    out_folder,
    resampler,
    status,
    with_flags,
)
from riskmodel.cli.parsing import parse_assignments, parse_threshold
from riskmodel.defaults import DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_WORLDS
from riskmodel.errors import RiskmodelError

if TYPE_CHECKING:
    import numpy as np

# Heavy modules are imported inside the commands, so that `riskmodel --help` stays light.

__all__ = ["bargain", "linkage", "register", "sidepay"]

Scenario = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
Issues = Annotated[
    str | None, typer.Option("--issues", help="Comma-separated issues to move (default: all).")
]
Base = Annotated[
    str | None,
    typer.Option("--base", help="Named deal or 'reversion' fixing the other issues (default: reversion)."),
]


def _issue_list(issues: str | None) -> list[str] | None:
    return None if issues is None else [name.strip() for name in issues.split(",") if name.strip()]


def _write_json(path: Path, payload: dict[str, Any]) -> Path:
    from riskmodel.io import write_atomic

    text = json.dumps(payload, indent=2, allow_nan=True, default=float)
    return write_atomic(path, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))


def _deal_table(title: str, issues: list[str], columns: dict[str, np.ndarray]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("issue")
    for name in columns:
        table.add_column(name, justify="right")
    for k, issue in enumerate(issues):
        table.add_row(Text(issue), *(f"{values[k]:.4g}" for values in columns.values()))
    return table


def linkage(
    scenario: Scenario,
    objective: Annotated[
        str, typer.Option("--objective", help="agreement (max joint P) or chief (max gain s.t. P ≥ tau).")
    ] = "agreement",
    chief: Annotated[
        str | None, typer.Option("--chief", help="Side whose chief's gain is maximised.")
    ] = None,
    tau: Annotated[
        float, typer.Option("--tau", min=0.0, max=1.0, help="Probability a deal needs to pass.")
    ] = 0.5,
    issues: Issues = None,
    base: Base = None,
    grid: Annotated[int, typer.Option("--grid", min=2, help="Coarse grid points per issue.")] = 5,
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Rounds of local refinement.")] = 8,
    worlds: WorldsOption = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    out: OutOption = None,
) -> None:
    """Search for the best deal, compare single-issue moves with bundles (synergistic linkage)."""
    from riskmodel.analyses.dealspace import base_deal
    from riskmodel.analyses.linkage import compare_bundles, fresh_simulation, optimise_deal
    from riskmodel.io import write_atomic

    try:
        loaded, simulation = load_and_sample(scenario, worlds=worlds, replicates=replicates, seed=seed)
        folder = out_folder(out, loaded)
        with status("Sampling fresh worlds to re-check the winner"):
            fresh = fresh_simulation(simulation, resampler(worlds=worlds, replicates=replicates))
        with status("Searching deals"):
            best = optimise_deal(
                simulation,
                objective=objective,  # type: ignore[arg-type]
                chief=chief,
                tau=tau,
                issues=_issue_list(issues),
                base=base,
                grid=grid,
                rounds=rounds,
                fresh=fresh,
            )
            singles = {
                name: optimise_deal(
                    simulation, issues=[name], base=base, grid=grid, rounds=rounds, fresh=fresh
                )
                for name in best.searched
            }
            bundles = compare_bundles(simulation, best.deal, base=base, tau=tau)
    except RiskmodelError as exc:
        raise fail(with_flags(exc, {"tau": "--tau", "grid": "--grid", "rounds": "--rounds"})) from None
    layout = simulation.layout
    _, base_values = base_deal(layout, base)
    console.print(
        _deal_table(
            f"{loaded.spec.title or loaded.spec.name}: best deal ({objective}), "
            f"{simulation.worlds.n_worlds:,} worlds",
            layout.issues,
            {"base": base_values, "best deal": best.deal},
        )
    )
    summary = Table(
        title="Moving one issue vs the bundle (joint P; fresh worlds re-check the winner)",
        title_justify="left",
    )
    for name in ("moves", "deal", "P search worlds", "P fresh worlds ± MCSE"):
        summary.add_column(name, justify="left" if name in ("moves", "deal") else "right")
    for name, single in singles.items():
        summary.add_row(
            Text(f"{name} only"),
            Text(f"{name} = {single.deal[layout.issues.index(name)]:.4g}"),
            f"{single.probability:.3f}",
            f"{single.fresh_probability:.3f} ± {single.fresh_mcse:.3f}",
        )
    summary.add_row(
        Text("bundle"),
        Text(", ".join(f"{k} = {v:.4g}" for k, v in zip(layout.issues, best.deal, strict=True))),
        f"{best.probability:.3f}",
        f"{best.fresh_probability:.3f} ± {best.fresh_mcse:.3f}",
        style="bold",
    )
    console.print(summary)
    table = Table(
        title=f"Bundles of moves from '{bundles.attrs['base']}' to the best deal (pass: joint P ≥ {tau:.0%})",
        title_justify="left",
    )
    for name in ("bundle", "joint P", "passes", "parts fail", "synergistic"):
        table.add_column(name, justify="left" if name == "bundle" else "right")
    for row in bundles.itertuples():
        table.add_row(
            Text(str(row.bundle)),
            f"{row.agreement_probability:.3f}",
            "yes" if row.passes else "no",
            "yes" if row.parts_fail else "no",
            "yes" if row.synergistic else "",
            style="bold" if row.synergistic else None,
        )
    console.print(table)
    payload = {
        "scenario": loaded.spec.name,
        "seed": seed,
        "n_worlds": simulation.worlds.n_worlds,
        "base": bundles.attrs["base"],
        "best": best.as_dict(),
        "single_issue": {name: single.as_dict() for name, single in singles.items()},
    }
    written = [
        _write_json(folder / "linkage.json", payload),
        write_atomic(folder / "linkage_bundles.csv", lambda tmp: bundles.to_csv(tmp, index=False)),
    ]
    console.print(Text(f"Wrote {', '.join(map(str, written))}."), highlight=False)


def sidepay(
    scenario: Scenario,
    deal: Annotated[str | None, typer.Option("--deal", help="Named deal (default: the first).")] = None,
    target: Annotated[
        float, typer.Option("--target", min=0.0, max=1.0, help="Probability for the budget needed.")
    ] = 0.9,
    budget: Annotated[
        list[float] | None, typer.Option("--budget", min=0.0, help="Budget to report (repeat for several).")
    ] = None,
    worlds: WorldsOption = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    out: OutOption = None,
) -> None:
    """Probability of ratification as a function of the chiefs' side-payment budget."""
    import numpy as np

    from riskmodel.analyses.sidepayments import side_payments
    from riskmodel.io import write_atomic

    try:
        loaded, simulation = load_and_sample(scenario, worlds=worlds, replicates=replicates, seed=seed)
        folder = out_folder(out, loaded)
        result = side_payments(simulation, deal, budgets=budget or None, target=target)
    except RiskmodelError as exc:
        raise fail(exc) from None
    sides = [str(s) for s in result["side"].to_numpy()]
    budgets = result["budget"].to_numpy()
    shown = (
        range(len(budgets))
        if len(budgets) <= 11
        else np.unique(np.linspace(0, len(budgets) - 1, 11).astype(int))
    )
    table = Table(
        title=f"Deal '{result.attrs['deal']}': P(ratify) with a budget of side payments "
        f"({result.attrs['budget_unit']})",
        title_justify="left",
    )
    table.add_column("budget", justify="right")
    for side in sides:
        table.add_column(side, justify="right")
    table.add_column("joint (every chief pays)", justify="right")
    for i in shown:
        table.add_row(
            f"{budgets[i]:.4g}",
            *(f"{float(result['ratification_probability'].sel(side=s)[i]):.3f}" for s in sides),
            f"{float(result['agreement_probability'][i]):.3f}",
        )
    console.print(table)
    needed = Table(
        title=f"Budget needed for P ≥ {target:.0%} (∞: purchases cannot reach it)", title_justify="left"
    )
    for name in ("side", "unpaid P", "own ratification", "agreement, this chief alone pays"):
        needed.add_column(name, justify="left" if name == "side" else "right")
    for s in sides:
        needed.add_row(
            Text(s),
            f"{float(result['ratification_probability_unpaid'].sel(side=s)):.3f}",
            f"{float(result['budget_needed'].sel(side=s)):.4g}",
            f"{float(result['budget_needed_one_payer'].sel(side=s)):.4g}",
        )
    needed.add_row(
        Text("every chief pays"), "", "", f"{float(result['budget_needed_agreement']):.4g}", style="bold"
    )
    console.print(needed)
    console.print(Text(f"Simplifications: {result.attrs['simplifications']}.", style="dim"))
    curve = result[["ratification_probability", "agreement_probability"]].to_dataframe().reset_index()
    written = [
        write_atomic(folder / "sidepay.nc", lambda tmp: result.to_netcdf(tmp, engine="h5netcdf")),
        write_atomic(folder / "sidepay.csv", lambda tmp: curve.to_csv(tmp, index=False)),
    ]
    console.print(Text(f"Wrote {', '.join(map(str, written))}."), highlight=False)


def bargain(
    scenario: Scenario,
    issues: Issues = None,
    base: Base = None,
    grid: Annotated[int, typer.Option("--grid", min=2, help="Coarse grid points per issue.")] = 9,
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Rounds of local refinement.")] = 8,
    tie: Annotated[
        str | None, typer.Option("--tie", help="Side whose hands to tie (tied-hands experiment).")
    ] = None,
    vote: Annotated[
        str | None, typer.Option("--vote", help="The tied side's vote whose threshold changes.")
    ] = None,
    threshold: Annotated[
        str | None, typer.Option("--threshold", help="New threshold: two_thirds, a count or a fraction.")
    ] = None,
    bloc: Annotated[str | None, typer.Option("--bloc", help="The tied side's bloc to harden.")] = None,
    shift: Annotated[
        list[str] | None, typer.Option("--shift", help="ISSUE=DELTA moving the bloc's ideal (repeatable).")
    ] = None,
    power: Annotated[
        list[str] | None,
        typer.Option(
            "--power",
            help="SIDE=ALPHA, a chief's bargaining power in (0, 1) (repeatable); the others share the rest.",
        ),
    ] = None,
    worlds: WorldsOption = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    out: OutOption = None,
) -> None:
    """Nash bargaining between the chiefs, weighted by ratification; optionally tie one side's hands."""
    import numpy as np

    from riskmodel.analyses.bargaining import nash_bargaining, tied_hands

    try:
        loaded, simulation = load_and_sample(scenario, worlds=worlds, replicates=replicates, seed=seed)
        folder = out_folder(out, loaded)
        options: dict[str, Any] = {
            "issues": _issue_list(issues),
            "base": base,
            "grid": grid,
            "rounds": rounds,
            "power": parse_assignments(
                power or [], option="--power", expects="SIDE=ALPHA with ALPHA in (0, 1)"
            )
            or None,
        }
        with status("Bargaining"):
            if tie is None:
                if vote or threshold or bloc or shift:
                    raise RiskmodelError("--vote, --threshold, --bloc and --shift need --tie SIDE")
                solutions = {"solution": nash_bargaining(simulation, **options)}
                experiment = None
            else:
                experiment = tied_hands(
                    simulation,
                    side=tie,
                    vote=vote,
                    threshold=None if threshold is None else parse_threshold(threshold),
                    bloc=bloc,
                    shift=parse_assignments(
                        shift or [], option="--shift", expects="ISSUE=DELTA (issue units)"
                    )
                    or None,
                    **options,
                )
                solutions = {"free": experiment.free, "tied": experiment.tied}
    except RiskmodelError as exc:
        raise fail(exc) from None
    layout = simulation.layout
    columns = {name: s.deal for name, s in solutions.items()}
    if experiment is not None:
        columns["move"] = np.array([experiment.move[i] for i in layout.issues])
    console.print(
        _deal_table(
            f"{loaded.spec.title or loaded.spec.name}: Nash bargaining solution", layout.issues, columns
        )
    )
    table = Table(title="Chiefs' expected surplus over disagreement (the reversion)", title_justify="left")
    table.add_column("solution")
    table.add_column("joint P", justify="right")
    for chief in layout.chiefs:
        table.add_column(f"surplus {chief}", justify="right")
    for name, s in solutions.items():
        table.add_row(
            Text(name), f"{s.agreement_probability:.3f}", *(f"{s.surplus[c]:.4f}" for c in layout.chiefs)
        )
    console.print(table)
    if experiment is not None:
        console.print(
            Text(
                f"Tied hands ({experiment.change}): the agreement moved "
                f"{experiment.toward_constrained:+.3f} (unit scale) toward {experiment.side}'s chief; "
                f"{experiment.side} would ratify the free solution with P = "
                f"{experiment.winset_probability_free:.3f} before and "
                f"{experiment.winset_probability_tied:.3f} after."
            )
        )
    if not all(s.agreed for s in solutions.values()):
        console.print(
            Text(
                "No deal gives every chief a positive expected surplus: disagreement is predicted.",
                style="bold",
            )
        )
    payload = {
        "scenario": loaded.spec.name,
        "seed": seed,
        "n_worlds": simulation.worlds.n_worlds,
        "power": options["power"] or "equal",
    }
    payload.update(experiment.as_dict() if experiment is not None else solutions["solution"].as_dict())
    written = _write_json(folder / "bargain.json", payload)
    console.print(Text(f"Wrote {written}."), highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``linkage``, ``sidepay`` and ``bargain`` to the CLI."""
    app.command(name="linkage")(linkage)
    app.command(name="sidepay")(sidepay)
    app.command(name="bargain")(bargain)
