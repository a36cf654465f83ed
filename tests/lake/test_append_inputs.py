"""Idempotent appends: the inputs an append consumed are recorded, and appended once."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.publish import publish_rows
from platform_lib.lake.publish.append_inputs import (
    APPEND_INPUTS_METADATA,
    AlreadyAppended,
    InputVersions,
)
from platform_lib.lake.publish.outcome import WritePath
from platform_lib.lake.publish.plan import plan_publish
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.reader import read_arrow
from platform_lib.quality.engine import validate_batch
from tests.conftest import MeshEnv, contract_for, publish_request

KEY = TableKey.parse("shop/curated/events")
EVENTS = """schema:
  - name: events
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true}
      - {name: n, logicalType: integer, physicalType: int64}
"""
FIRST = InputVersions.of({"shop/raw/events": 3})
SECOND = InputVersions.of({"shop/raw/events": 4})
THIRD = InputVersions.of({"shop/raw/events": 5})


@pytest.fixture
def contract(tmp_path: Path) -> TableContract:
    return contract_for(tmp_path, str(KEY), EVENTS)


def events(*ids: str) -> pa.Table:
    """Rows as text; an id ending in '!' has a bad count (quarantined)."""
    return pa.table(
        {
            "id": pa.array(list(ids), pa.string()),
            "n": pa.array(["x" if i.endswith("!") else "1" for i in ids], pa.string()),
        }
    )


def append_of(
    env: MeshEnv, contract: TableContract, inputs: InputVersions, run_id: str
) -> PublishRequest:
    request = publish_request(KEY, contract, env.settings, mode=WriteMode.APPEND, run_id=run_id)
    return dataclasses.replace(request, inputs=inputs)


def versions(env: MeshEnv) -> tuple[int, int]:
    return (
        DeltaTable(KEY.uri(env.settings)).version(),
        DeltaTable(KEY.quarantine.uri(env.settings)).version(),
    )


@pytest.mark.parametrize("stream_threshold_rows", [1_000, 0], ids=["whole", "stream"])
def test_the_same_inputs_again_commit_nothing_on_either_path(
    mesh_env: MeshEnv, contract: TableContract, stream_threshold_rows: int
) -> None:
    first = publish_rows(
        append_of(mesh_env, contract, FIRST, "run-1"),
        events("a", "b", "c!"),
        stream_threshold_rows=stream_threshold_rows,
    )
    before = versions(mesh_env)

    again = publish_rows(
        append_of(mesh_env, contract, FIRST, "run-2"),
        events("a", "b", "c!"),
        stream_threshold_rows=stream_threshold_rows,
    )

    assert first.committed and not again.committed
    assert again.already_appended == first.table_version == before[0]
    assert again.path is (WritePath.STREAM if stream_threshold_rows == 0 else WritePath.WHOLE_TABLE)
    assert again.validation.rows_rejected == 1  # the checks are still reported
    assert versions(mesh_env) == before
    assert read_arrow(KEY.uri(mesh_env.settings)).num_rows == 2
    commit = DeltaTable(KEY.uri(mesh_env.settings)).history(1)[0]
    assert commit[APPEND_INPUTS_METADATA] == FIRST.fingerprint


def test_other_inputs_append_and_an_append_without_inputs_always_does(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    publish_rows(append_of(mesh_env, contract, FIRST, "run-1"), events("a"))
    publish_rows(append_of(mesh_env, contract, SECOND, "run-2"), events("b"))
    unknown = publish_request(KEY, contract, mesh_env.settings, mode=WriteMode.APPEND)
    publish_rows(unknown, events("c"))
    publish_rows(unknown, events("c"))

    assert sorted(read_arrow(KEY.uri(mesh_env.settings))["id"].to_pylist()) == [
        "a",
        "b",
        "c",
        "c",
    ]


def test_after_a_rollback_to_before_an_append_its_inputs_append_again(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    appended = publish_rows(append_of(mesh_env, contract, FIRST, "run-1"), events("a"))
    publish_rows(append_of(mesh_env, contract, SECOND, "run-2"), events("b"))
    assert appended.table_version is not None
    Committer.for_table(KEY, mesh_env.settings).restore_version(
        appended.table_version, commit_metadata={"mesh.run_id": "rollback_1"}
    )

    second = publish_rows(append_of(mesh_env, contract, SECOND, "run-3"), events("b"))
    first = publish_rows(append_of(mesh_env, contract, FIRST, "run-4"), events("a"))

    assert second.committed
    assert first.already_appended == appended.table_version and not first.committed
    assert sorted(read_arrow(KEY.uri(mesh_env.settings))["id"].to_pylist()) == ["a", "b"]


def test_after_an_overwrite_the_same_inputs_append_again(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    publish_rows(append_of(mesh_env, contract, FIRST, "run-1"), events("a"))
    publish_rows(publish_request(KEY, contract, mesh_env.settings, run_id="run-2"), events("z"))

    again = publish_rows(append_of(mesh_env, contract, FIRST, "run-3"), events("a"))

    assert again.committed
    assert sorted(read_arrow(KEY.uri(mesh_env.settings))["id"].to_pylist()) == ["a", "z"]


def test_of_two_runs_that_both_found_nothing_only_the_first_to_commit_appends(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    """The later run checked the table before the other committed, and committed its quarantine
    first: it appends nothing, and its quarantine rows survive the next publish."""
    publish_rows(append_of(mesh_env, contract, FIRST, "run-1"), events("a"))
    late = plan_publish(append_of(mesh_env, contract, SECOND, "run-late"))
    guard = late.append_guard()
    assert guard is not None and guard.already is None
    checked = validate_batch(events("b", "c!"), late.contract)
    late.keep_rejected(late.quarantine_rows(checked.rejected))

    winner = publish_rows(append_of(mesh_env, contract, SECOND, "run-early"), events("b", "c!"))
    lost = late.write_valid(checked.valid, guard)
    after = publish_rows(append_of(mesh_env, contract, THIRD, "run-3"), events("d"))

    assert winner.committed and after.reconciled_rows == 0
    assert lost == AlreadyAppended(winner.table_version or -1, "run-early")
    assert sorted(read_arrow(KEY.uri(mesh_env.settings))["id"].to_pylist()) == ["a", "b", "d"]
    assert read_arrow(KEY.quarantine.uri(mesh_env.settings))["id"].to_pylist() == ["c!"]


def test_a_run_that_failed_before_its_commit_leaves_its_inputs_to_append(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    def failing() -> Iterator[pa.RecordBatch]:
        yield from events("a", "b!").to_batches()
        raise OSError("the source went away")

    broken = pa.RecordBatchReader.from_batches(events().schema, failing())
    with pytest.raises(OSError, match="went away"):
        publish_rows(append_of(mesh_env, contract, FIRST, "run-1"), broken, stream_threshold_rows=0)

    again = publish_rows(append_of(mesh_env, contract, FIRST, "run-2"), events("a", "b!"))

    assert again.committed and again.already_appended is None
    assert read_arrow(KEY.uri(mesh_env.settings))["id"].to_pylist() == ["a"]
    assert read_arrow(KEY.quarantine.uri(mesh_env.settings))["run_id"].to_pylist() == ["run-2"]
