"""``riskmodel gallery``: run every bundled case and tabulate its headline numbers and what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmodel.cli.common import JsonOption, console, emit_json, errors, fail, fold, records, say
from riskmodel.errors import RiskmodelError

__all__ = ["register"]

_BUNDLED = Path(__file__).resolve().parents[2] / "data" / "scenarios"


def gallery(
    scenarios: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Scenario files (default: every scenario under data/scenarios with a fact sheet)."
        ),
    ] = None,
    worlds: Annotated[int, typer.Option("--worlds", min=1, help="Possible worlds per scenario.")] = 4000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed; the same seed gives the same numbers.")
    ] = 20190101,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for gallery.csv, outcomes.csv, gallery.md.")
    ] = Path("reports/gallery"),
    as_json: JsonOption = False,
) -> None:
    """Run every bundled case; write the gallery table (CSV and Markdown) and print it."""
    from riskmodel.backtest.gallery import gallery_markdown, gallery_rows
    from riskmodel.io import write_atomic

    paths = scenarios or sorted(p for p in _BUNDLED.glob("*.yaml") if not p.name.endswith(".facts.yaml"))
    if not paths:
        raise fail(RiskmodelError(f"no scenarios found under {_BUNDLED}"))
    try:
        with console.status("running the gallery") as status:
            headlines, outcomes = gallery_rows(
                paths, n_worlds=worlds, seed=seed, log=lambda message: status.update(message)
            )
    except (RiskmodelError, ValueError) as exc:
        raise fail(exc) from None
    markdown = gallery_markdown(headlines, outcomes)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "gallery.csv", lambda tmp: headlines.to_csv(tmp, index=False))
    write_atomic(out / "outcomes.csv", lambda tmp: outcomes.to_csv(tmp, index=False))
    write_atomic(out / "gallery.md", lambda tmp: Path(tmp).write_text(markdown, encoding="utf-8"))
    table = Table(title=f"Bundled cases ({worlds} worlds, seed {seed})")
    for column in ("case", "deal", "P(agreement)", "per side", "s"):
        table.add_column(column)
    for row in headlines.itertuples():
        table.add_row(
            str(row.scenario),
            str(row.deal),
            f"{row.p_agreement:.3f} ± {row.mcse_agreement:.3f}",
            str(row.sides),
            f"{row.seconds}",
        )
    if as_json:
        emit_json({"cases": records(headlines), "outcomes": records(outcomes)})
    else:
        console.print(fold(table))
    if len(outcomes):
        say(as_json).print(
            f"Mean Brier over {len(outcomes)} recorded outcomes: {outcomes['brier'].mean():.3f}"
        )
    errors.print(
        f"Wrote {out / 'gallery.csv'}, {out / 'outcomes.csv'} and {out / 'gallery.md'}.", highlight=False
    )


def register(app: typer.Typer) -> None:
    """Add ``gallery`` to the CLI."""
    app.command("gallery")(gallery)
