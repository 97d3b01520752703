"""Member tables: the CSV files a chamber names in ``members:``, read strictly and checked.

A table has a ``name`` and a ``bloc`` column, optional ``offset.<issue>`` numbers and string
attributes. Problems inside the file name the file, line and column; problems finding it are
reported at the scenario's ``members:`` key through the caller's ``fail``.
"""

from __future__ import annotations

import csv
import io
import math
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from riskmodel.errors import ScenarioError, did_you_mean
from riskmodel.spec.names import check_member_names, resolve_table

__all__ = ["MAX_TABLE_BYTES", "load_member_table", "read_member_csv"]

MAX_TABLE_BYTES = 50_000_000


def load_member_table(
    members: str,
    base_dir: Path,
    *,
    bloc_names: Sequence[str],
    issue_names: Sequence[str],
    fail: Callable[[str], typing.NoReturn],
    required: Sequence[str] = (),
) -> pd.DataFrame:
    """Read and check a chamber's member table (``members`` relative to ``base_dir``).

    ``fail(message)`` raises a problem located at the scenario's ``members:`` key (missing
    file, too large, not a CSV); problems inside the table raise :class:`ScenarioError` naming
    the table. ``offset.<issue>`` columns come back as floats.
    """
    file = resolve_table(members, base_dir, fail)  # guards: riskmodel.spec.names
    if not file.is_file():
        fail(f"member table '{members}' not found (looked for {file})")
    if file.stat().st_size > MAX_TABLE_BYTES:
        fail(f"member table '{file}' is larger than {MAX_TABLE_BYTES // 1_000_000} MB")
    if file.suffix.lower() != ".csv":
        fail(f"a member table must be a .csv file, got '{members}'")
    table = read_member_csv(file)
    check_member_names(table, file)  # guards: riskmodel.spec.names
    for column in ("name", "bloc", *required):  # required: columns the scenario uses (e.g. groups')
        if column not in table.columns:
            raise ScenarioError(
                f"missing column '{column}' (columns: {', '.join(table.columns)})", file=file, line=1
            )
    seen: dict[str, int] = {}
    for row, (name, bloc) in enumerate(zip(table["name"], table["bloc"], strict=True)):
        line = row + 2
        if not name:
            raise ScenarioError("empty member name", file=file, line=line, location="name")
        if name in seen:
            raise ScenarioError(
                f"duplicate member name '{name}' (also line {seen[name]})",
                file=file,
                line=line,
                location="name",
            )
        seen[name] = line
        if bloc not in bloc_names:
            raise ScenarioError(
                f"unknown bloc '{bloc}'{did_you_mean(bloc, bloc_names)}; "
                f"the chamber declares: {', '.join(bloc_names)}",
                file=file,
                line=line,
                location="bloc",
            )
    for column in table.columns:
        if column.startswith("offset."):
            issue = column.removeprefix("offset.")
            if issue not in issue_names:
                raise ScenarioError(
                    f"column '{column}' names an unknown issue{did_you_mean(issue, issue_names)}",
                    file=file,
                    line=1,
                )
            values = pd.to_numeric(table[column], errors="coerce")
            bad = values.isna() | ~values.map(math.isfinite)
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise ScenarioError(
                    f"expected a finite number, got '{table[column].iloc[row]}'",
                    file=file,
                    line=row + 2,
                    location=column,
                )
            table[column] = values.astype(float)
    if "weight" in table.columns:
        # votes per member: a positive whole number, so weighted counts stay exact integers
        text = table["weight"].astype(str).str.strip()
        ok = text.str.fullmatch(r"[0-9]+") & (text.str.lstrip("0") != "")
        if not ok.all():
            row = int((~ok).to_numpy().nonzero()[0][0])
            raise ScenarioError(
                f"expected a positive whole number of votes, got '{table['weight'].iloc[row]}'",
                file=file,
                line=row + 2,
                location="weight",
            )
        table["weight"] = text.astype(int)
    return table


def read_member_csv(file: Path) -> pd.DataFrame:
    """Read a member table strictly: unique column names, every row as long as the header."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ScenarioError(
            "empty file: expected a header row with at least 'name' and 'bloc'", file=file
        ) from None
    except csv.Error as exc:
        raise ScenarioError(f"malformed CSV: {exc}", file=file, line=1) from None
    header = [column.strip() for column in header]
    for index, column in enumerate(header):
        if not column:
            raise ScenarioError(f"column {index + 1} of the header has no name", file=file, line=1)
        if header.index(column) != index:
            raise ScenarioError(f"duplicate column '{column}' in the header", file=file, line=1)
    rows = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ScenarioError(
                    f"expected {len(header)} fields (as in the header), found {len(row)}",
                    file=file,
                    line=reader.line_num,
                )
            rows.append([cell.strip() for cell in row])
    except csv.Error as exc:
        raise ScenarioError(f"malformed CSV: {exc}", file=file, line=reader.line_num) from None
    return pd.DataFrame(rows, columns=header, dtype=object)
