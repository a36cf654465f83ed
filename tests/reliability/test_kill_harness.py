"""The kill harness in CI: the reduced set of kill points (every phase, two write paths, traced
and mid-write kills), and proof that its checks catch a partial table and broken accounting.

The full set (>= 50 points, every scenario) is ``make kill-harness``.
"""

import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable, write_deltalake

from tests.reliability.kill_checks import account, data_files, judge_after_kill
from tests.reliability.kill_harness import (
    QUICK_PER_PHASE,
    QUICK_SCENARIOS,
    ScenarioBase,
    prepare_base,
    run_harness,
    summary,
)
from tests.reliability.kill_points import Phase
from tests.reliability.kill_scenarios import CURATED, RAW, TABLES, Scenario, settings_for


def test_every_kill_point_of_the_reduced_set_leaves_old_or_new_and_recovers(
    tmp_path: Path,
) -> None:
    results = run_harness(QUICK_SCENARIOS, QUICK_PER_PHASE, tmp_path)

    report = summary(results, 0)
    assert {r.point.phase for r in results} == set(Phase), report
    assert {r.point.kind for r in results} == {"trace", "file"}, report
    assert len(results) >= 8, report
    assert all(r.killed for r in results), report
    assert sum(r.partial_tables for r in results) == 0, report
    assert all(r.recovered and r.accounting and r.accounting.holds for r in results), report
    assert all(r.ok for r in results), report


@pytest.fixture(scope="module")
def overwrite_base(tmp_path_factory: pytest.TempPathFactory) -> ScenarioBase:
    return prepare_base(Scenario.OVERWRITE, tmp_path_factory.mktemp("kill"))


def test_a_table_at_neither_version_is_reported_partial(
    overwrite_base: ScenarioBase, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(overwrite_base.start, lake)
    settings = settings_for(lake)
    before = {name: data_files(key.uri(settings)) for name, key in TABLES.items()}
    curated = CURATED.uri(settings)
    half = DeltaTable(curated).to_pyarrow_table().slice(0, 10)
    write_deltalake(curated, half, mode="append")  # a version no run of the scenario makes

    verdicts = judge_after_kill(settings, overwrite_base.old, overwrite_base.new, before)

    assert verdicts["curated"].partial
    assert verdicts["curated"].state.startswith("partial: version")
    assert verdicts["raw"].state == "old"
    assert not verdicts["raw"].partial


def test_accounting_catches_a_record_ingested_twice(
    overwrite_base: ScenarioBase, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(overwrite_base.start, lake)
    settings = settings_for(lake)
    assert account(settings).holds is False  # the new landing file is not ingested yet
    raw = RAW.uri(settings)
    table = DeltaTable(raw).to_pyarrow_table()
    write_deltalake(raw, table.slice(0, 1), mode="append")

    figures = account(settings)

    assert figures.duplicates >= 1
    assert figures.raw_rows == table.num_rows + 1
    assert not figures.holds
    assert figures.rows_lost > 0  # the landing file the scenario's run has yet to ingest
