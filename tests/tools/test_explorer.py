"""The experiment explorer: each panel's data from a real run on the chain, and the page in a real
headless Chromium (the rounds table against the chain's events, the verify panel on an honest run
and on a tampered copy, the live page while a run trains)."""
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fl.chain import TaskChain
from fl.chain.attendance import AttendanceChain
from fl.chain.committee import CommitteeChain
from fl.chain.rewards import RewardChain, to_tokens
from fl.core import config
from fl.core.errors import UserError
from fl.features.panel import Heatmap, Table
from fl.run.experiment import run_experiment
from fl.tools.explore.command import explore
from fl.tools.explore.page import render, write
from fl.tools.explore.view import read_run

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
EVERY_FEATURE = {"committee.size": 2, "rewards.budget": 5, "attendance.enabled": True, "algorithm.name": "fedipr",
                 "model.name": "signalexnet-small", "algorithm.params": {"owners": 1, "bits": 8, "min_distance": 0}}


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """5 clients, 2 rounds of FedIPR with the committee, rewards and attendance on, its final model
    minted as a token, sold and resold."""
    from fl.features.ownership.owners import tokenize
    from fl.features.ownership.trade import to_wei, trade

    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 5, "train.rounds": 2,
                              "output.runs_dir": str(tmp_path_factory.mktemp("runs")), "output.progress": False,
                              "output.run_name": "full", **EVERY_FEATURE})
    run = run_experiment(cfg).path
    tokenize(run)
    trade(run, to_wei(10), to_wei(15))
    return run


@pytest.fixture(scope="module")
def full_view(full_run):
    return read_run(full_run, metrics=False)


def blocks(view, panel_id, kind):
    panel = next(p for p in view.panels if p.id == panel_id)
    return [b for b in panel.blocks if isinstance(b, kind)]


def task_of(run):
    return TaskChain.attach(json.loads((run / "chain.json").read_text())["contract"])


# --- each panel's data -------------------------------------------------------------------------
def test_rounds_hold_the_chains_commitments_participants_and_gas(full_run, full_view):
    task = task_of(full_run)
    assert [r.round for r in full_view.rounds] == [1, 2]
    for r in full_view.rounds:
        record = task.round_record(r.round)
        assert {c.client: c.update_hash for c in r.commitments} == record.commitments
        assert (r.aggregated, r.selected, r.final_model) == (record.participants, record.selected, record.final_model)
        assert (r.gas, len(r.transactions)) == (r.metrics.gas, r.metrics.txs)  # metrics.csv's count, from receipts
        assert r.mismatches == []
    assert full_view.verified is True and full_view.chain_error is None


def test_overview_holds_the_chains_config_hash_contracts_and_gas(full_run, full_view):
    from fl.tools.explore.run_panels import overview

    facts = dict(overview(full_view).blocks[0].items)
    task = task_of(full_run)
    assert facts["config hash (chain)"].text == task.config_hash() == facts["config hash (run folder)"].text
    assert facts["config hash (chain)"].style == "hash"  # not flagged
    assert facts["task (FLTask)"].text == task.address
    assert full_view.total_gas == sum(t.gas_used for t in full_view.history.transactions)
    assert sum(r.gas for r in full_view.rounds) == sum(r.metrics.gas for r in full_view.rounds)
    assert facts["verify"].text == "OK"


def test_a_run_without_personal_models_shows_no_personal_digest_column(full_view):
    from fl.features.panel import Detail
    from fl.tools.explore.run_panels import COMMITMENT_COLUMNS, rounds_panel

    detail = next(b for b in rounds_panel(full_view).blocks if isinstance(b, Detail))
    assert detail.blocks[0].columns == ["client", *COMMITMENT_COLUMNS]


def test_clients_panel_counts_each_clients_commitments_and_aggregations(full_run, full_view):
    from fl.tools.explore.run_panels import clients_panel

    table = next(b for b in clients_panel(full_view, {}).blocks if isinstance(b, Table))
    task = task_of(full_run)
    for row in table.rows:
        client = row[0]
        assert row[1].text == task.client_address(client)
        assert row[3] == sum(client in task.commitments(r) for r in (1, 2))
        aggregated = [r for r in (1, 2) if client in task.round_record(r).participants]
        assert row[4] == (", ".join(map(str, aggregated)) or "none")


def test_committee_panel_shows_each_members_submitted_scores(full_run, full_view):
    info = json.loads((full_run / "chain.json").read_text())
    committee = CommitteeChain.attach(info["hooks"]["committee"], task_of(full_run))
    for heatmap in blocks(full_view, "committee", Heatmap):
        round_ = int(heatmap.id.rsplit("-", 1)[1])
        members = committee.members(round_)
        for label, row in zip(heatmap.row_labels, heatmap.values):
            if label == "median":
                expected = committee.medians(round_)
            else:
                expected = committee.scores(round_, int(label.split()[1]))
            candidates = [int(c.split()[0]) for c in heatmap.column_labels]
            assert row == [None if c in members else float(v) for c, v in zip(candidates, expected)]


def test_rewards_panel_balances_are_the_tokens(full_run, full_view):
    info = json.loads((full_run / "chain.json").read_text())
    token = RewardChain.attach(info["hooks"]["reward_token"])
    column = next(p for p in full_view.panels if p.id == "rewards").client_columns["reward balance (OFLR)"]
    assert {cid: float(cell.text) for cid, cell in column.items()} == \
        {cid: to_tokens(token.balance(address)) for cid, address in info["clients"].items() for cid in [int(cid)]}
    assert sum(float(c.text) for c in column.values()) == pytest.approx(2 * 5)


def test_attendance_panel_counts_are_the_counters(full_run, full_view):
    info = json.loads((full_run / "chain.json").read_text())
    counter = AttendanceChain.attach(info["hooks"]["attendance"])
    column = next(p for p in full_view.panels if p.id == "attendance").client_columns["rounds attended"]
    assert {cid: int(v) for cid, v in column.items()} == {cid: counter.attendance_of(cid) for cid in range(1, 6)}


def test_watermark_panel_shows_the_negotiated_key_commitments(full_run, full_view):
    recorded = json.loads((full_run / "chain.json").read_text())["algorithm"]["watermark_owners"]
    keys = next(t for t in blocks(full_view, "watermark", Table) if t.id == "watermark-keys")
    assert {row[0]: row[1].text for row in keys.rows} == {f"client {c}": k for c, k in recorded.items()}


def test_ownership_panel_follows_the_token_from_mint_through_both_sales(full_run, full_view):
    from brownie import Contract

    from fl.chain.network import load_project

    ownership = json.loads((full_run / "ownership.json").read_text())
    token = Contract.from_abi("ModelToken", ownership["token"], load_project().ModelToken.abi)
    holders = next(t for t in blocks(full_view, "ownership", Table) if t.id == "ownership-holders")
    assert [row[2].split(" for ")[0] for row in holders.rows] == ["minted", "bought", "bought"]
    assert holders.rows[-1][1] == str(token.ownerOf(1))
    withdrawals = next(t for t in blocks(full_view, "ownership", Table) if t.id == "ownership-withdrawals")
    assert len(withdrawals.rows) == 5  # two contributors after each sale, and the first buyer's proceeds


def test_metrics_that_disagree_with_the_chain_are_named(full_run, tmp_path):
    copy = tmp_path / "edited"
    shutil.copytree(full_run, copy)
    lines = (copy / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    row[header.index("gas")] = "123"
    (copy / "metrics.csv").write_text("\n".join([*lines[:2], ",".join(row)]) + "\n")
    view = read_run(copy, metrics=False)
    assert view.round(1).mismatches == []
    assert any("123 gas" in m for m in view.round(2).mismatches)


# --- bad input ---------------------------------------------------------------------------------
def test_a_folder_that_is_not_a_run_is_refused_before_anything_is_written(full_run, tmp_path):
    with pytest.raises(UserError, match="is not a run folder: task.json, config.yaml missing"):
        explore([str(full_run), str(tmp_path)])
    assert not (full_run / "explorer-x.html").exists()


def test_serving_on_a_port_in_use_says_so_and_exits_non_zero(full_run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "fl", "explore", "--serve", "--port", str(port), str(full_run)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot serve the explorer on 127.0.0.1:{port}")


# --- in the browser ----------------------------------------------------------------------------
def rows_of(browser, table_id):
    return browser.find_elements("css selector", f"#{table_id} tbody tr")


def test_the_rounds_table_shows_each_round_and_the_chains_commitment_hashes(full_run, full_view, browser, screenshot):
    page = write(render(full_view), full_run / "explorer.html")
    html = page.read_text()
    assert "src=" not in html and "<link" not in html and "@import" not in html  # nothing to fetch: opens offline
    browser.get(page.resolve().as_uri())
    screenshot(browser, "explorer", height=1500)  # the README's picture (docs/explorer.png)
    rows = rows_of(browser, "rounds-table")
    task = task_of(full_run)
    assert len(rows) == task.current_round() == 2
    for index, row in enumerate(rows, start=1):
        detail = browser.find_element("id", f"round-{index}-detail")
        assert not detail.is_displayed()
        row.click()
        assert detail.is_displayed()
        shown = [c.get_attribute("data-full") for c in
                 browser.find_elements("css selector", f"#round-{index}-commitments tbody tr td:nth-child(2) code")]
        events = [e.args.updateHash.hex() for e in task.commitment_events(index)]
        assert [h.removeprefix("0x") for h in shown] == [h.removeprefix("0x") for h in events]
    assert browser.find_element("css selector", "#verify-table tbody tr:nth-child(1) td:nth-child(2)").text == "OK"
    for panel in ("committee", "rewards", "watermark", "attendance", "ownership"):
        assert browser.find_element("id", panel).is_displayed()
    screenshot(browser, "explorer-rounds-open")


def test_the_verify_panel_names_the_failing_round_and_check_of_a_tampered_copy(full_run, tmp_path, browser, screenshot):
    copy = tmp_path / "tampered"
    shutil.copytree(full_run, copy)
    record = task_of(copy).round_record(2)
    artifact = copy / "artifacts" / f"{record.commitments[record.participants[0]]}.safetensors"
    data = bytearray(artifact.read_bytes())
    data[-1] ^= 1
    artifact.write_bytes(bytes(data))
    page = write(render(read_run(copy, metrics=False)), copy / "explorer.html")
    browser.get(page.resolve().as_uri())
    verdicts = {row.find_element("css selector", "td:nth-child(1)").text:
                (row.find_element("css selector", "td:nth-child(2)").text, row.find_element("css selector", "td:nth-child(3)").text)
                for row in rows_of(browser, "verify-table")}
    assert verdicts["1"][0] == "OK"
    assert verdicts["2"][0] == "FAIL" and f"client {record.participants[0]}: update artifact tampered" in verdicts["2"][1]
    assert "verify FAILED" in browser.find_element("id", "verify-banner").text
    screenshot(browser, "explorer-tampered")


#: long enough (about 15 s of rounds on one core) that the page is seen live between its opening and the end
LIVE_ROUNDS = 10


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    """A run trained in its own process with `--explore` on a free port: (process, run folder, port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runs = tmp_path_factory.mktemp("live")
    process = subprocess.Popen([sys.executable, "-m", "fl", "run", "--dataset", "synthetic-images", "--clients", "3",
                                "--rounds", str(LIVE_ROUNDS), "--local-epochs", "4", "--runs-dir", str(runs),
                                "--name", "live", "--no-progress", "--explore", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process, runs / "live", port
    if process.poll() is None:
        process.kill()
    process.wait()


FINALIZED_ROUNDS = """
return Array.from(document.querySelectorAll('#rounds-table tbody tr'))
  .filter(r => r.cells.length > 1 && r.cells[1].textContent.trim() === 'finalized')
  .map(r => parseInt(r.cells[0].textContent, 10));
"""


def finalized_rows(browser):
    """The finalized rounds of the rounds table, read in one script so that a live reload cannot cut the read."""
    return browser.execute_script(FINALIZED_ROUNDS) or []


def test_the_live_page_shows_a_round_that_finished_after_it_was_opened(live_run, browser, screenshot):
    import requests
    from selenium.common.exceptions import JavascriptException, NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    process, run, port = live_run
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.RequestException:
            assert time.time() < deadline and process.poll() is None, "the explorer never answered"
            time.sleep(0.2)
    browser.get(url)
    at_open = finalized_rows(browser)
    assert len(at_open) < LIVE_ROUNDS, "the run was over before the page opened"
    reloading = (StaleElementReferenceException, NoSuchElementException, JavascriptException)

    def shows_a_new_round_live(b) -> bool:
        if len(finalized_rows(b)) > len(at_open) and "rounds finalized" in b.find_element("id", "live-banner").text:
            return True
        assert not requests.get(f"{url}version", timeout=5).json()["finished"], \
            "the run ended before the page showed a round that finished after it was opened"
        return False

    WebDriverWait(browser, 180, poll_frequency=0.5, ignored_exceptions=reloading).until(shows_a_new_round_live)
    screenshot(browser, "explorer-live")
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    assert f"explorer: http://127.0.0.1:{port}/" in output
    assert (run / "explorer.html").is_file()


def test_a_run_whose_chain_database_is_gone_still_gets_its_page_with_a_banner(live_run, tmp_path):
    process, run, _ = live_run
    process.wait(timeout=300)
    copy = tmp_path / "no-chain"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("chain", "explorer.html"))
    result = subprocess.run([sys.executable, "-m", "fl", "explore", str(copy)], cwd=ROOT, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    html = (copy / "explorer.html").read_text()
    assert "The chain could not be read" in html and "nothing was cross-checked" in html
    assert html.count('<tr><td>') >= LIVE_ROUNDS  # the rounds of metrics.csv


def test_several_runs_are_put_side_by_side(full_run, tmp_path, browser):
    other = tmp_path / "copy-of-full"
    shutil.copytree(full_run, other)
    pages = explore([str(full_run), str(other)], out=str(tmp_path / "both.html"), metrics=False)
    assert len(pages) == 3
    browser.get(pages[-1].resolve().as_uri())
    names = [r.find_element("css selector", "td:nth-child(1)").text for r in rows_of(browser, "compare-table")]
    assert names == ["full", "copy-of-full"]
    assert len(browser.find_elements("css selector", "#compare-accuracy polyline")) == 2
