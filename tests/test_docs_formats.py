"""The file-format reference pages under docs/formats are the ones the code generates."""

from __future__ import annotations

from pathlib import Path

from riskmodel.cli.formats import format_pages

DOCS = Path(__file__).resolve().parent.parent / "docs" / "formats"
README = Path(__file__).resolve().parent.parent / "README.md"


def test_committed_format_pages_match_the_code() -> None:
    pages = format_pages()
    assert set(pages) == {"scenario.md", "shocks.md", "evidence.md", "results.md"}
    for name, text in pages.items():
        committed = (DOCS / name).read_text(encoding="utf-8")
        assert committed == text, f"docs/formats/{name} is stale: run `riskmodel docs-formats`"


def test_every_shock_kind_and_scenario_key_is_documented() -> None:
    from riskmodel.spec.schema import Scenario
    from riskmodel.spec.shocks import ShockFile

    pages = format_pages()
    kinds = ShockFile.model_json_schema()["$defs"]
    for definition in kinds.values():
        kind = definition.get("properties", {}).get("kind", {}).get("const")
        if kind:
            assert f"`{kind}`" in pages["shocks.md"]
    for definition in Scenario.model_json_schema()["$defs"].values():
        for key in definition.get("properties", {}):
            assert f"| `{key}` |" in pages["scenario.md"] or f"| `{key}` |" in pages["evidence.md"], key


def test_readme_links_every_page_and_lists_valence() -> None:
    readme = README.read_text(encoding="utf-8")
    for name in format_pages():
        assert f"docs/formats/{name}" in readme
    assert "valence" in readme
