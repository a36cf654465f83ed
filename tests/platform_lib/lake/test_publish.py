"""Write-audit-publish: valid rows published, rejected rows kept, blocked batches commit nothing."""

import pyarrow as pa
import pytest

from platform_lib.conventions import Layer, TableKey
from platform_lib.lake.publish import publish
from platform_lib.lake.reader import read_arrow, table_state
from platform_lib.lake.writer import WriteMode
from platform_lib.quality.rules import NotNull, RowCount
from tests.conftest import MeshEnv

KEY = TableKey(domain="shop", layer=Layer.CURATED, table="orders")
RULES = (NotNull(id="id_present", column="id"), RowCount(id="has_rows", minimum=1))


def orders(ids: list[str | None]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "_line_number": pa.array(range(1, len(ids) + 1), pa.int64()),
        }
    )


def test_valid_rows_are_published_without_lineage_and_rejects_are_quarantined(
    mesh_env: MeshEnv,
) -> None:
    settings = mesh_env.settings

    outcome = publish(
        KEY, orders(["a", None, "c"]), rules=RULES, mode=WriteMode.OVERWRITE, settings=settings
    )

    published = read_arrow(KEY.uri(settings))
    quarantine = read_arrow(KEY.quarantine_uri(settings))
    assert outcome.committed and outcome.table_rows == 2
    assert published.column_names == ["id"]
    assert published["id"].to_pylist() == ["a", "c"]
    assert quarantine["_line_number"].to_pylist() == [2]
    assert quarantine["_violations"].to_pylist() == [["id_present"]]
    assert quarantine["_quarantine_batch_id"].to_pylist() == [outcome.batch_id]


@pytest.mark.parametrize("mode", [WriteMode.OVERWRITE, WriteMode.APPEND])
def test_a_blocked_batch_commits_nothing_and_keeps_the_previous_version(
    mesh_env: MeshEnv, mode: WriteMode
) -> None:
    settings = mesh_env.settings
    publish(KEY, orders(["a"]), rules=RULES, mode=WriteMode.OVERWRITE, settings=settings)
    before = table_state(KEY.uri(settings))

    outcome = publish(KEY, orders([None, None]), rules=RULES, mode=mode, settings=settings)

    assert not outcome.committed and outcome.validation.blocked
    assert table_state(KEY.uri(settings)) == before
    assert table_state(KEY.quarantine_uri(settings)).rows == 0


def test_overwriting_twice_keeps_one_copy_of_the_quarantine(mesh_env: MeshEnv) -> None:
    settings = mesh_env.settings
    batch = orders(["a", None])

    for _ in range(2):
        publish(KEY, batch, rules=RULES, mode=WriteMode.OVERWRITE, settings=settings)

    assert table_state(KEY.uri(settings)).rows == 1
    assert table_state(KEY.quarantine_uri(settings)).rows == 1
