"""Readers for real roll-call data: House Clerk / Senate files and Voteview files.

Two layouts are read (see ``shared/data/rollcalls/PROVENANCE.md``):

* **clerk** — ``congress<C>_rollcalls.csv[.gz]`` (one row per roll call) and
  ``congress<C>_member_votes.csv[.gz]`` (one row per member × roll call), member ids are
  bioguide ids (House) or LIS ids (Senate);
* **Voteview** — ``HSall_members.csv`` (DW-NOMINATE), ``H116_votes.csv`` / ``S116_votes.csv``
  (``congress, chamber, rollnumber, icpsr, cast_code[, prob]``), the shared long files
  ``H109_votes_long.csv.gz`` (the same columns without ``prob``) and ``HSall_rollcalls.csv``.

Every reader checks the header and the type of every needed cell, and reports the first problem
as a :class:`RollCallDataError` naming the file, the line and what was expected. Votes are coded
``1`` (yea), ``0`` (nay) and missing (present, not voting, anything else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.errors import RiskmodelError
from riskmodel.io import input_message, input_problem

__all__ = [
    "RollCallDataError",
    "read_checked_csv",
    "read_clerk_member_votes",
    "read_clerk_rollcalls",
    "read_id_crosswalk",
    "read_rollcall_map",
    "read_voteview_members",
    "read_voteview_rollcalls",
    "read_voteview_votes",
]

YEA_POSITIONS = frozenset({"Aye", "Yea", "Yes", "Guilty"})
NAY_POSITIONS = frozenset({"No", "Nay", "Not Guilty"})
PRESIDENT_ICPSR = 99900
"""Voteview rows with an ICPSR id at or above this are the President's announced positions."""


class RollCallDataError(RiskmodelError):
    """A roll-call data file is missing, malformed or of an unexpected layout."""

    def __init__(self, message: str, *, file: str | Path, line: int | None = None) -> None:
        self.file = str(file)
        self.line = line
        where = self.file if line is None else f"{self.file}:{line}"
        super().__init__(f"{where}: {message}")


def read_checked_csv(path: str | Path, columns: Mapping[str, str], *, what: str) -> pd.DataFrame:
    """Read a CSV and check it: every column in ``columns`` present and of its kind.

    Kinds: ``int`` (whole numbers), ``float`` (numbers, empty allowed), ``str`` (text, empty
    allowed), ``key`` (text, never empty). Line numbers in errors count the header as line 1.
    """
    path = Path(path)
    problem = input_problem(path)
    if problem is not None:
        raise RollCallDataError(input_message(problem, what), file=path)
    try:
        header = pd.read_csv(path, dtype=str, nrows=0).columns
        missing = [name for name in columns if name not in header]
        if missing:
            raise RollCallDataError(
                f"not a {what} file: missing column(s) {', '.join(missing)}; "
                f"expected {', '.join(columns)} (found {', '.join(map(str, header[:12]))})",
                file=path,
                line=1,
            )
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[], usecols=list(columns), engine="c"
        )
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise RollCallDataError(f"cannot read {what} CSV: {exc}", file=path) from None
    except pd.errors.EmptyDataError:
        raise RollCallDataError(f"empty file; expected a {what} CSV with a header line", file=path) from None
    out = pd.DataFrame(index=table.index)
    for name, kind in columns.items():
        raw = table[name].str.strip()
        if kind in ("int", "float"):
            filled = raw.where(raw != "", "nan" if kind == "float" else "?")
            values = pd.to_numeric(filled, errors="coerce")
            bad = values.isna() & ((raw != "") | (kind == "int"))
            if kind == "int":
                bad |= values.notna() & (values != np.round(values))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                kind_text = "a whole number" if kind == "int" else "a number or an empty cell"
                raise RollCallDataError(
                    f"column '{name}': expected {kind_text}, got {table[name].iloc[row]!r}",
                    file=path,
                    line=row + 2,
                )
            out[name] = values.astype(np.int64) if kind == "int" else values.astype(np.float64)
        else:
            if kind == "key" and (raw == "").any():
                row = int(np.flatnonzero((raw == "").to_numpy())[0])
                raise RollCallDataError(f"column '{name}': empty value", file=path, line=row + 2)
            out[name] = raw.astype(object)
    return out


def _check_choices(table: pd.DataFrame, column: str, allowed: Sequence[object], path: Path | str) -> None:
    bad = ~table[column].isin(list(allowed))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RollCallDataError(
            f"column '{column}': expected one of {', '.join(map(str, allowed))}, "
            f"got {table[column].iloc[row]!r}",
            file=path,
            line=row + 2,
        )


# --------------------------------------------------------------------------- clerk layout


def read_clerk_rollcalls(path: str | Path) -> pd.DataFrame:
    """Read a clerk roll-call table (``congress<C>_rollcalls.csv[.gz]``).

    Returns
    -------
    pandas.DataFrame
        ``vote_id, congress, chamber`` (``h``/``s``), ``session_year, number, date`` (UTC
        timestamp), ``category, question, bill_type, bill_number, requires, result, n_yea, n_nay``,
        sorted by date.
    """
    columns = {
        "vote_id": "key",
        "congress": "int",
        "chamber": "key",
        "session_year": "int",
        "number": "int",
        "date": "key",
        "category": "str",
        "question": "str",
        "bill_type": "str",
        "bill_number": "str",
        "requires": "str",
        "result": "str",
        "n_yea": "int",
        "n_nay": "int",
    }
    table = read_checked_csv(path, columns, what="clerk roll-call")
    _check_choices(table, "chamber", ["h", "s"], path)
    dates = pd.to_datetime(table["date"], utc=True, errors="coerce", format="ISO8601")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise RollCallDataError(
            "column 'date': expected an ISO date such as 2005-07-28T23:57:00-04:00, "
            f"got {table['date'].iloc[row]!r}",
            file=path,
            line=row + 2,
        )
    table["date"] = dates
    return table.sort_values(["date", "chamber", "number"], kind="stable").reset_index(drop=True)


def read_clerk_member_votes(path: str | Path) -> pd.DataFrame:
    """Read a clerk member-vote table (``congress<C>_member_votes.csv[.gz]``).

    Returns
    -------
    pandas.DataFrame
        ``vote_id, member_id, party, state, position`` and ``vote`` (1.0 yea, 0.0 nay, NaN
        otherwise). The Vice President's tie-breaking rows (``member_id`` ``VP``) are dropped.
    """
    columns = {"vote_id": "key", "member_id": "key", "party": "str", "state": "str", "position": "str"}
    table = read_checked_csv(path, columns, what="clerk member-vote")
    table = table[table["member_id"] != "VP"].reset_index(drop=True)
    vote = np.full(len(table), np.nan)
    vote[table["position"].isin(YEA_POSITIONS).to_numpy()] = 1.0
    vote[table["position"].isin(NAY_POSITIONS).to_numpy()] = 0.0
    table["vote"] = vote
    return table


# --------------------------------------------------------------------------- Voteview layout


def read_voteview_members(path: str | Path) -> pd.DataFrame:
    """Read a Voteview member file (``HSall_members.csv[.gz]`` or ``H116_members.csv``).

    Returns
    -------
    pandas.DataFrame
        ``congress, chamber`` (``House``/``Senate``/``President``), ``icpsr, state_abbrev,
        party_code, bioname, bioguide_id, nominate_dim1, nominate_dim2``.
    """
    columns = {
        "congress": "int",
        "chamber": "key",
        "icpsr": "int",
        "state_abbrev": "str",
        "party_code": "int",
        "bioname": "str",
        "bioguide_id": "str",
        "nominate_dim1": "float",
        "nominate_dim2": "float",
    }
    table = read_checked_csv(path, columns, what="Voteview member")
    _check_choices(table, "chamber", ["House", "Senate", "President"], path)
    return table


def read_voteview_votes(path: str | Path) -> pd.DataFrame:
    """Read Voteview member votes: a download (``H116_votes.csv``) or a shared long file.

    Rows of members not in the legislature (cast code 0) and the President's announced
    positions are dropped.

    Returns
    -------
    pandas.DataFrame
        ``congress, chamber, rollnumber, icpsr, cast_code`` and ``vote`` (1.0 for cast codes
        1–3, 0.0 for 4–6, NaN for 7–9).
    """
    columns = {"congress": "int", "chamber": "key", "rollnumber": "int", "icpsr": "int", "cast_code": "int"}
    table = read_checked_csv(path, columns, what="Voteview vote")
    _check_choices(table, "chamber", ["House", "Senate", "President"], path)
    _check_choices(table, "cast_code", list(range(10)), path)
    keep = (table["cast_code"] != 0) & (table["icpsr"] < PRESIDENT_ICPSR) & (table["chamber"] != "President")
    table = table[keep].reset_index(drop=True)
    code = table["cast_code"].to_numpy()
    table["vote"] = np.where(code <= 3, 1.0, np.where(code <= 6, 0.0, np.nan))
    return table


def read_voteview_rollcalls(path: str | Path) -> pd.DataFrame:
    """Read Voteview roll-call metadata (``HSall_rollcalls.csv`` or ``H113_rollcalls.csv``).

    Returns
    -------
    pandas.DataFrame
        ``congress, chamber, rollnumber, date, clerk_rollnumber, yea_count, nay_count`` and
        the vote description columns when present.
    """
    columns = {
        "congress": "int",
        "chamber": "key",
        "rollnumber": "int",
        "date": "key",
        "clerk_rollnumber": "float",
        "yea_count": "int",
        "nay_count": "int",
    }
    table = read_checked_csv(path, columns, what="Voteview roll-call")
    dates = pd.to_datetime(table["date"], errors="coerce", format="ISO8601")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise RollCallDataError(
            f"column 'date': expected a date such as 2019-12-19, got {table['date'].iloc[row]!r}",
            file=path,
            line=row + 2,
        )
    table["date"] = dates
    extra = pd.read_csv(path, dtype=str, keep_default_na=False, low_memory=False)
    for name in ("bill_number", "vote_result", "vote_desc", "vote_question", "dtl_desc"):
        if name in extra.columns:
            table[name] = extra[name].to_numpy()
    return table


# --------------------------------------------------------------------------- crosswalks


def read_id_crosswalk(path: str | Path) -> pd.DataFrame:
    """Read the legislator id crosswalk: ``bioguide_id, lis_id, icpsr`` (as text; it may be missing)."""
    return read_checked_csv(
        path, {"bioguide_id": "key", "lis_id": "str", "icpsr": "str"}, what="id crosswalk"
    )


def read_rollcall_map(path: str | Path) -> pd.DataFrame:
    """Read the Voteview rollnumber ↔ clerk vote id map (``voteview_clerk_rollcall_map.csv``)."""
    columns = {"congress": "int", "chamber": "key", "voteview_rollnumber": "int", "clerk_vote_id": "str"}
    return read_checked_csv(path, columns, what="roll-call map")
