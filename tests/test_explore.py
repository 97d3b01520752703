"""The explorer's API: the engine's numbers for an edited deal, and refusals of bad requests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from riskmodel.explore import DealError, Explorer
from riskmodel.explore.app import MAX_BODY, create_app
from riskmodel.explore.export import scenario_with_deal
from riskmodel.explore.state import slider_step
from riskmodel.io import load_results
from riskmodel.pipeline import evaluate_deals, run_scenario, sample_worlds
from riskmodel.results.tables import summary_table
from riskmodel.spec.scenario import load_scenario

BUNDLED = Path(__file__).resolve().parent.parent / "data" / "scenarios" / "usmca_2019.yaml"
N_WORLDS, N_REPLICATES, SEED = 200, 10, 11


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Explorer:
    loaded = load_scenario(BUNDLED)
    simulation = sample_worlds(loaded, n_worlds=N_WORLDS, n_replicates=N_REPLICATES, seed=SEED)
    out = tmp_path_factory.mktemp("explore_out")
    return Explorer(simulation=simulation, scenario_path=BUNDLED, out_dir=out)


@pytest.fixture(scope="module")
def client(explorer: Explorer):
    with TestClient(create_app(explorer), base_url="http://127.0.0.1:8765") as test_client:
        yield test_client


def _query(**values: float) -> str:
    return "&".join(f"{k}={v!r}" for k, v in values.items())


DEAL = {"labour_enforcement": 0.47, "auto_rvc": 71.3, "biologics_exclusivity": 4.0}


def _wait(client: TestClient, job: dict, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def test_config_describes_the_controls(client: TestClient) -> None:
    config = client.get("/api/config").json()
    assert [i["name"] for i in config["issues"]] == [
        "labour_enforcement",
        "auto_rvc",
        "biologics_exclusivity",
    ]
    rvc = config["issues"][1]
    assert (rvc["low"], rvc["high"], rvc["unit"]) == (60.0, 85.0, "%")
    assert [d["name"] for d in config["deals"]] == ["text_2018", "amended_2019", "no_labour_mechanism"]
    assert config["sides"][0]["reversion"]["auto_rvc"] == 62.5
    assert config["n_worlds"] == N_WORLDS and config["seed"] == SEED


def test_slider_steps_are_round() -> None:
    assert slider_step(1.0) == 0.01
    assert slider_step(25.0) == 0.1
    assert slider_step(1000.0) == 10.0


def test_evaluation_equals_the_run_of_the_deal(client: TestClient, explorer: Explorer) -> None:
    shown = client.get(f"/api/evaluate?{_query(**DEAL)}").json()
    values = np.array(list(DEAL.values()))
    expected = summary_table(evaluate_deals(explorer.simulation, values[None, :], ["mine"]))
    assert [o["side"] for o in shown["outcomes"]] == ["us", "mexico", "canada", "joint"]
    for outcome, row in zip(shown["outcomes"], expected.itertuples(), strict=True):
        assert outcome["probability"] == row.probability
        assert outcome["mcse"] == row.mcse
        assert outcome["text"] == f"{row.probability:.3f} ± {row.mcse:.3f}"
    assert shown["deal"] == DEAL


def test_a_named_deal_shows_what_run_prints_for_it(client: TestClient) -> None:
    # the whole pipeline as `riskmodel run` calls it: the same seed gives the same worlds
    run = summary_table(
        run_scenario(load_scenario(BUNDLED), n_worlds=N_WORLDS, n_replicates=N_REPLICATES, seed=SEED)
    )
    for deal in ("text_2018", "amended_2019"):
        config = client.get("/api/config").json()
        values = next(d["values"] for d in config["deals"] if d["name"] == deal)
        shown = client.get(f"/api/evaluate?{_query(**values)}").json()
        expected = run[run["deal"] == deal]
        assert [o["text"] for o in shown["outcomes"]] == [
            f"{r.probability:.3f} ± {r.mcse:.3f}" for r in expected.itertuples()
        ]


def test_vote_counts_are_distributions_against_thresholds(client: TestClient, explorer: Explorer) -> None:
    votes = client.get(f"/api/evaluate?{_query(**DEAL)}").json()["votes"]
    results = evaluate_deals(explorer.simulation, np.array([list(DEAL.values())]), ["mine"]).isel(deal=0)
    for vote in votes:
        chosen = results.sel(vote=vote["name"])
        assert vote["probability"] == float(chosen["vote_probability"])
        assert vote["mcse"] == float(chosen["vote_mcse"])
        assert vote["needed"] == float(chosen["vote_needed_full"])
        if vote["kind"] == "count":
            assert vote["histogram"] == chosen["support_histogram"].to_numpy()[: vote["seats"] + 1].tolist()
    house = next(v for v in votes if v["name"] == "us.house_passage")
    assert house["kind"] == "count" and len(house["histogram"]) == house["seats"] + 1
    assert sum(house["histogram"]) == pytest.approx(1.0)
    assert 0 < house["needed"] <= house["seats"]
    signature = next(v for v in votes if v["name"] == "us.signature")
    assert signature["seats"] == 1 and len(signature["histogram"]) == 2


def test_rating_bands_are_the_reports(client: TestClient) -> None:
    from riskmodel.report.rating import risk_rating

    for outcome in client.get(f"/api/evaluate?{_query(**DEAL)}").json()["outcomes"]:
        assert outcome["rating"] == risk_rating(outcome["probability"], outcome["mcse"])


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        (_query(**{**DEAL, "auto_rvc": 90.0}), 400, "outside the issue's range [60, 85]"),
        (_query(**{**DEAL, "auto_rvc": -1.0}), 400, "outside"),
        ("labour_enforcement=nan&auto_rvc=70&biologics_exclusivity=0", 400, "expected a number"),
        ("labour_enforcement=inf&auto_rvc=70&biologics_exclusivity=0", 400, "expected a number"),
        ("labour_enforcement=0.5&auto_rvc=7_0&biologics_exclusivity=0", 400, "expected a number"),
        ("labour_enforcement=0.5&auto_rvc=1e400&biologics_exclusivity=0", 400, "outside"),
        ("labour_enforcement=5e-1&auto_rvc=%2B70.&biologics_exclusivity=.0", 200, ""),
        ("labour_enforcement=abc&auto_rvc=70&biologics_exclusivity=0", 400, "expected a number"),
        ("labour_enforcement=0.5&auto_rvc=70", 400, "missing a value for issue 'biologics_exclusivity'"),
        (_query(**DEAL) + "&tariff=3", 400, "unknown issue 'tariff'"),
        (_query(**DEAL) + "&auto_rvc=70", 400, "given more than once"),
        (
            "labour_enforcement=" + "1" * 500 + "&auto_rvc=70&biologics_exclusivity=0",
            400,
            "expected a number",
        ),
    ],
)
def test_deal_values_are_checked(client: TestClient, query: str, status: int, says: str) -> None:
    response = client.get(f"/api/evaluate?{query}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["deal"] == {
            "labour_enforcement": 0.5,
            "auto_rvc": 70.0,
            "biologics_exclusivity": 0.0,
        }
        return
    assert says in response.json()["error"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/api/map", b"{not json", 400, "malformed JSON"),
        ("/api/map", b"\xff\xfe", 400, "malformed JSON"),
        ("/api/map", b"[1, 2]", 400, "expected a JSON object"),
        ("/api/map", json.dumps({"x": "auto_rvc", "y": "tariff"}).encode(), 400, "unknown issue 'tariff'"),
        ("/api/map", json.dumps({"x": "auto_rvc", "y": "auto_rvc"}).encode(), 400, "two different issues"),
        (
            "/api/map",
            json.dumps({"x": "auto_rvc", "y": "biologics_exclusivity", "base": "nope"}).encode(),
            400,
            "unknown deal 'nope'",
        ),
        (
            "/api/map",
            json.dumps({"x": "auto_rvc", "y": "labour_enforcement", "z": 1}).encode(),
            400,
            "unknown field 'z'",
        ),
        ("/api/levers", json.dumps({"values": {**DEAL, "auto_rvc": 99}}).encode(), 400, "outside"),
        (
            "/api/levers",
            json.dumps({"values": {**DEAL, "auto_rvc": True}}).encode(),
            400,
            "expected a number",
        ),
        ("/api/levers", json.dumps({"values": [1, 2, 3]}).encode(), 400, "expected an object"),
        ("/api/levers", json.dumps({"values": DEAL, "target": 1.5}).encode(), 400, "target"),
        ("/api/save", json.dumps({"name": "../evil", "values": DEAL}).encode(), 400, "expected a deal name"),
        ("/api/save", json.dumps({"name": "text_2018", "values": DEAL}).encode(), 409, "already has a deal"),
        ("/api/save", json.dumps({"name": "ok", "label": 5, "values": DEAL}).encode(), 400, "label"),
        ("/api/save", json.dumps({"name": "ok", "values": {}}).encode(), 400, "missing a value"),
    ],
)
def test_bad_bodies_are_refused_with_a_message(
    client: TestClient, path: str, body: bytes, status: int, says: str
) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert says in response.json()["error"]


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    body = json.dumps({"name": "x", "label": "a" * (MAX_BODY + 10), "values": DEAL}).encode()
    response = client.post("/api/save", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "too large" in response.json()["error"]

    def chunks():  # no Content-Length: the limit holds while reading the stream
        for _ in range(64):
            yield b" " * 1024

    response = client.post("/api/save", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_only_json_is_accepted_for_writes(client: TestClient) -> None:
    response = client.post("/api/save", data={"name": "x"})
    assert response.status_code == 415
    assert "JSON" in response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/static/../../pyproject.toml",
        "/static/",
        "/static/index.html",
        "/api",
        "/riskmodel/io.py",
        "/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_nothing_but_its_own_routes_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"].startswith("not found")


def test_wrong_methods_and_unknown_jobs(client: TestClient) -> None:
    response = client.delete("/api/config")
    assert response.status_code == 405 and "method not allowed" in response.json()["error"]
    assert client.post("/", content=b"{}").status_code == 405
    response = client.get("/api/jobs/map-999999")
    assert response.status_code == 404 and "unknown job" in response.json()["error"]


def test_foreign_hosts_and_origins_are_refused(explorer: Explorer) -> None:
    with TestClient(create_app(explorer), base_url="http://evil.example") as other:
        response = other.get("/api/config")
        assert response.status_code == 400 and "answers only to" in response.json()["error"]
    with TestClient(create_app(explorer), base_url="http://127.0.0.1:8765") as local:
        response = local.post(
            "/api/save",
            content=json.dumps({"name": "x", "values": DEAL}),
            headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
        )
        assert response.status_code == 403


def test_the_page_and_its_assets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert 'src="/static/explorer.js"' in page.text
    assert client.get("/static/explorer.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/explorer.css").status_code == 200


def test_winset_map_is_computed_once_per_pair(client: TestClient, explorer: Explorer) -> None:
    request = {"x": "labour_enforcement", "y": "auto_rvc", "base": "amended_2019"}
    first = client.post("/api/map", json=request)
    assert first.status_code == 202
    job = _wait(client, first.json())
    assert job["status"] == "done", job
    again = client.post("/api/map", json=request).json()
    assert again["id"] == job["id"] and again["status"] == "done"
    result = job["result"]
    assert len(result["xs"]) == result["grid"] and len(result["agreement"]) == len(result["ys"])
    # a grid point is the engine's number for that deal (other issues at the base deal)
    i, j = 20, 30
    deal = explorer.named_deal("amended_2019").copy()
    deal[0], deal[1] = result["xs"][i], result["ys"][j]
    single = evaluate_deals(explorer.simulation, deal[None, :], ["point"])
    assert result["agreement"][j][i] == pytest.approx(float(single["agreement_probability"][0]), abs=1e-4)


def test_levers_rank_constituencies_and_price_side_payments(client: TestClient) -> None:
    job = _wait(client, client.post("/api/levers", json={"values": DEAL, "target": 0.8}).json())
    assert job["status"] == "done", job
    result = job["result"]
    widths = [row["width"] for row in result["tornado"]]
    assert widths == sorted(widths, reverse=True) and len(widths) <= 8
    assert {s["side"] for s in result["side_payments"]["sides"]} == {"us", "mexico", "canada"}
    assert result["side_payments"]["target"] == 0.8
    assert job["done"] == job["total"] > 0


def test_save_writes_a_new_scenario_holding_the_deal(client: TestClient, explorer: Explorer) -> None:
    response = client.post("/api/save", json={"name": "middle_way", "label": "A middle way", "values": DEAL})
    assert response.status_code == 201, response.text
    path = Path(response.json()["scenario"])
    assert path.parent == explorer.out_dir and path.name == "usmca_2019-middle_way.yaml"
    text = path.read_text(encoding="utf-8")
    assert "# Rapid Response mechanism?" in text  # the original's comments are kept
    loaded = load_scenario(path)
    assert [d.name for d in loaded.spec.deals][-1] == "middle_way"
    assert loaded.spec.deals[-1].values == DEAL
    again = client.post("/api/save", json={"name": "middle_way", "values": DEAL})
    assert again.status_code == 409 and "already exists" in again.json()["error"]
    assert path.read_text(encoding="utf-8") == text  # never overwritten


def test_a_flow_style_deal_list_is_rewritten_from_data() -> None:
    text = "name: s\ndeals: [{name: a, values: {x: 1}}]\n"
    new = scenario_with_deal(text, name="b", label="B", values={"x": 0.25}, note="n")
    import yaml

    assert yaml.safe_load(new)["deals"][-1] == {
        "name": "b",
        "label": "B",
        "values": {"x": 0.25},
        "source": "n",
    }


def test_deal_error_statuses() -> None:
    assert DealError("x").status == 400
    assert DealError("x", status=409).status == 409


@pytest.mark.slow
def test_report_of_the_deal_is_the_run_of_the_new_scenario(client: TestClient, explorer: Explorer) -> None:
    deal = {"labour_enforcement": 0.3, "auto_rvc": 70.0, "biologics_exclusivity": 2.0}
    job = _wait(client, client.post("/api/report", json={"name": "reported", "values": deal}).json(), 300)
    assert job["status"] == "done", job
    written = job["result"]
    assert Path(written["html"]).is_file() and Path(written["pdf"]).is_file()
    saved = summary_table(load_results(written["results"]))
    run = summary_table(
        run_scenario(
            load_scenario(written["scenario"]), n_worlds=N_WORLDS, n_replicates=N_REPLICATES, seed=SEED
        )
    )
    assert saved[["deal", "side", "probability", "mcse"]].equals(run[["deal", "side", "probability", "mcse"]])


def test_the_command_line_does_not_load_the_web_stack() -> None:
    import subprocess
    import sys

    code = "import sys, riskmodel.cli.app; print([m for m in ('starlette', 'uvicorn') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_a_newer_levers_job_supersedes_the_queued_ones() -> None:
    import threading

    from riskmodel.explore.jobs import JobRunner

    runner = JobRunner(workers=1)
    release = threading.Event()

    def blocker(job) -> str:
        release.wait(10)
        return "blocked"

    def steps(job) -> int:
        for i in range(3):
            job.progress(i + 1, 3)
        return 3

    first = runner.submit("map", None, blocker)
    older = runner.submit("levers", ("a",), steps, supersede=True)
    newer = runner.submit("levers", ("b",), steps, supersede=True)
    release.set()
    deadline = time.monotonic() + 10
    while newer.status != "done" or older.status in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert first.status == "done" and older.status == "superseded" and newer.result == 3
    assert runner.submit("levers", ("a",), steps).id != older.id  # a superseded job is re-run


def test_command_line_errors_exit_2_before_sampling(tmp_path: Path) -> None:
    import socket

    from typer.testing import CliRunner

    from riskmodel.cli.app import app

    runner = CliRunner()
    missing = runner.invoke(app, ["explore", str(tmp_path / "nope.yaml"), "--port", "18765"])
    assert missing.exit_code == 2 and "scenario file not found" in missing.output
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = runner.invoke(app, ["explore", str(BUNDLED), "--out", str(a_file)])
    assert result.exit_code == 2 and "--out must be a folder" in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["explore", str(BUNDLED), "--port", str(port)])
    assert result.exit_code == 2 and f"port {port} on 127.0.0.1 is in use" in result.output
    assert "Traceback" not in result.output


def test_payloads_carry_no_nan_or_infinity() -> None:
    from riskmodel.explore.app import json_safe

    cleaned = json_safe({"a": float("nan"), "b": [1.0, float("inf"), {"c": -float("inf")}], "d": "x", "e": 2})
    assert cleaned == {"a": None, "b": [1.0, None, {"c": None}], "d": "x", "e": 2}
    json.dumps(cleaned, allow_nan=False)


def test_two_reports_of_one_name_cannot_share_a_folder(explorer: Explorer) -> None:
    from riskmodel.explore.export import write_deal_report

    (explorer.out_dir / "usmca_2019-taken").mkdir()
    with pytest.raises(DealError, match="already exists"):
        write_deal_report(explorer, "taken", None, np.array(list(DEAL.values())))
