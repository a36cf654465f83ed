"""`mesh quarantine show|export` over the demo mesh's real quarantine table."""

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.reader import read_arrow
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.mesh.run import materialize_mesh
from platform_lib.operations.quarantine import ExportFormat, export_quarantine, quarantine_report
from platform_lib.operations.status import quarantine_counts
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for, run_command

CURATED = TableKey.parse("payments/curated/transactions")


@pytest.fixture(scope="module")
def mesh() -> Mesh:
    return load_mesh(PROJECT_ROOT).require_loaded()


@pytest.fixture(scope="module")
def demo(module_mesh_env: MeshEnv, mesh: Mesh) -> MeshEnv:
    """The demo mesh materialised once: payments' curated table has quarantined rows."""
    payments = [key for key in mesh.tables if key.domain == "payments"]
    assert materialize_mesh(mesh, payments, instance_for(module_mesh_env)).succeeded
    return module_mesh_env


def test_show_counts_rows_by_rule_and_samples_the_original_lines(demo: MeshEnv, mesh: Mesh) -> None:
    report = quarantine_report(mesh, str(CURATED), rule="amount_range", limit=3)

    assert (report.total_rows, report.by_rule) == quarantine_counts(CURATED, demo.settings)
    assert report.by_rule["amount_range"] > 3
    assert len(report.samples) == 3 and report.has_lineage
    for row in report.samples:
        assert "amount_range" in row.violated_rules
        assert row.source_file is not None and row.line_number is not None
        landing_line = (
            (demo.landing / row.source_file).read_text().splitlines()[row.line_number - 1]
        )
        assert row.raw_record == landing_line
        assert float(str(row.values["amount"])) <= 0
        assert row.run_id and row.row_hash


def test_show_of_a_table_that_quarantined_nothing_is_empty(demo: MeshEnv, mesh: Mesh) -> None:
    report = quarantine_report(mesh, "payments/product/settlements")

    assert (report.total_rows, report.by_rule, report.samples) == (0, {}, [])


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
def test_export_round_trips_every_quarantined_row(
    demo: MeshEnv, mesh: Mesh, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"rejects{suffix}"
    quarantine = read_arrow(CURATED.quarantine.uri(demo.settings))
    expected = {
        (row["row_hash"], tuple(row["violated_rules"]), row["_raw_record"])
        for row in quarantine.to_pylist()
    }

    written = export_quarantine(mesh, str(CURATED), out)

    assert written.rows == quarantine.num_rows
    assert written.format is ExportFormat(suffix.lstrip("."))
    if suffix == ".parquet":
        back = pq.read_table(out)
        assert back.schema == quarantine.schema
        assert back.sort_by("row_hash").equals(quarantine.sort_by("row_hash"))
        return
    with out.open(encoding="utf-8") as stream:
        rows = (
            [json.loads(line) for line in stream]
            if suffix == ".jsonl"
            else [
                {**row, "violated_rules": json.loads(row["violated_rules"])}
                for row in csv.DictReader(stream)
            ]
        )
    assert {(r["row_hash"], tuple(r["violated_rules"]), r["_raw_record"]) for r in rows} == expected


def test_export_of_one_rule_keeps_only_its_rows(demo: MeshEnv, mesh: Mesh, tmp_path: Path) -> None:
    written = export_quarantine(mesh, str(CURATED), tmp_path / "range.parquet", rule="amount_range")
    rules = pq.read_table(tmp_path / "range.parquet").column("violated_rules").to_pylist()

    assert (
        written.rows == len(rules) == quarantine_counts(CURATED, demo.settings)[1]["amount_range"]
    )
    assert all("amount_range" in r for r in rules)


@pytest.mark.parametrize(
    ("table", "file", "says"),
    [
        (str(CURATED), "rejects.xlsx", "unknown extension '.xlsx'"),
        ("payments/curated/nothing", "rejects.csv", "no table payments/curated/nothing in"),
        ("payments/raw/transactions", "rejects.csv", "is a raw table"),
    ],
)
def test_export_mistakes_are_clear_errors(
    demo: MeshEnv, mesh: Mesh, tmp_path: Path, table: str, file: str, says: str
) -> None:
    with pytest.raises(MeshError, match=says.replace(".", r"\.")) as raised:
        export_quarantine(mesh, table, tmp_path / file)

    assert raised.value.fix
    assert not (tmp_path / file).exists()


def test_the_commands_show_json_and_export_a_file(demo: MeshEnv, tmp_path: Path) -> None:
    out = tmp_path / "rejects.jsonl"

    shown = run_command(
        ["mesh", "quarantine", "show", str(CURATED), "--limit", "2", "--json"], demo.environ()
    )
    exported = run_command(
        ["mesh", "quarantine", "export", str(CURATED), "--out", str(out)], demo.environ()
    )
    wrong = run_command(
        ["mesh", "quarantine", "export", str(CURATED), "--out", str(tmp_path / "x.txt")],
        demo.environ(),
    )

    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert len(report["samples"]) == 2 and report["total_rows"] == sum(1 for _ in out.open())
    assert exported.returncode == 0 and "written to" in exported.stdout
    assert wrong.returncode == 2 and "unknown extension" in wrong.stderr and "fix:" in wrong.stderr


def test_show_lists_rows_in_arrival_order_whatever_their_files_are_named(
    mesh_env: MeshEnv, mesh: Mesh
) -> None:
    arrivals = [("a-late.csv", 2, 9), ("b.csv", 3, 2), ("b.csv", 2, 1), ("0-later.csv", 2, 12)]
    Committer.for_table(CURATED.quarantine, mesh_env.settings).write_table(
        pa.table(
            {
                "transaction_id": [f"tx_{n}" for n in range(len(arrivals))],
                "_source_file": [file for file, _, _ in arrivals],
                "_line_number": pa.array([line for _, line, _ in arrivals], pa.int64()),
                "_raw_record": ["x"] * len(arrivals),
                "_arrival_seq": pa.array([seq for _, _, seq in arrivals], pa.int64()),
                "violated_rules": pa.array([["transaction_id_unique"]] * len(arrivals)),
                "run_id": ["run-1"] * len(arrivals),
                "row_hash": [str(n) for n in range(len(arrivals))],
            }
        ),
        mode=WriteMode.OVERWRITE,
    )

    report = quarantine_report(mesh, str(CURATED), settings=mesh_env.settings)

    assert [(row.source_file, row.arrival_seq) for row in report.samples] == [
        ("b.csv", 1),
        ("b.csv", 2),
        ("a-late.csv", 9),
        ("0-later.csv", 12),
    ]
    assert report.samples[0].values == {"transaction_id": "tx_2"}
