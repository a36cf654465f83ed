"""A domain's writes land only under ``<lake root>/<domain>/``: every escape is refused."""

import os
from pathlib import Path

import pyarrow as pa
import pytest

from platform_lib import CsvSource, MeshError, TableKey
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.raw_ingest import ingest_landing_folder
from platform_lib.lake.reader import table_exists
from platform_lib.lake.write_scope import writing_for
from platform_lib.settings import MeshSettings
from tests.conftest import contract_for, publish_request

EVENTS = CsvSource(table="events", folder="bank/events", columns=("day", "n"))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MeshSettings:
    landing = tmp_path / "landing" / "bank" / "events"
    landing.mkdir(parents=True)
    (landing / "a.csv").write_text("day,n\n2026-01-01,1\n")
    (tmp_path / "lake").mkdir()
    monkeypatch.setenv("MESH_LAKE_ROOT", str(tmp_path / "lake"))
    return MeshSettings(
        project_root=tmp_path,
        lake_root=str(tmp_path / "lake"),
        landing_root=tmp_path / "landing",
        dagster_home=tmp_path / "dagster",
    )


def ingest(settings: MeshSettings, uri: str) -> None:
    with writing_for("bank"):
        ingest_landing_folder(EVENTS, settings.landing_root, uri)


def test_the_domain_writes_under_its_own_prefix(settings: MeshSettings) -> None:
    uri = settings.table_uri("bank", "raw", "events")

    ingest(settings, uri)

    assert table_exists(uri)


def test_a_dot_dot_path_into_another_domain_is_refused(settings: MeshSettings) -> None:
    uri = settings.table_uri("bank", "raw", "..", "..", "risk", "raw", "events")

    with pytest.raises(MeshError, match=r"domain 'bank' may write only under .*/lake/bank/"):
        ingest(settings, uri)

    assert not table_exists(settings.table_uri("risk", "raw", "events"))


def test_an_absolute_path_outside_the_lake_is_refused(
    settings: MeshSettings, tmp_path: Path
) -> None:
    uri = str(tmp_path / "elsewhere" / "events")

    with pytest.raises(MeshError, match="may write only under"):
        ingest(settings, uri)

    assert not (tmp_path / "elsewhere").exists()


def test_a_symbolic_link_into_another_domain_is_refused(settings: MeshSettings) -> None:
    lake = Path(settings.lake_root)
    (lake / "risk" / "raw").mkdir(parents=True)
    (lake / "bank").mkdir()
    os.symlink(lake / "risk" / "raw", lake / "bank" / "raw")

    with pytest.raises(MeshError, match="symbolic links"):
        ingest(settings, settings.table_uri("bank", "raw", "events"))

    assert not table_exists(settings.table_uri("risk", "raw", "events"))


def test_a_linked_domain_folder_is_refused(settings: MeshSettings, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, Path(settings.lake_root) / "bank")

    with pytest.raises(MeshError, match="may write only under"):
        ingest(settings, settings.table_uri("bank", "raw", "events"))

    assert list(outside.iterdir()) == []


def test_publishing_another_domains_key_is_refused(settings: MeshSettings, tmp_path: Path) -> None:
    contract = contract_for(
        tmp_path,
        "risk/curated/scores",
        """schema:
  - name: scores
    properties:
      - {name: n, logicalType: integer, physicalType: int64}
""",
    )
    key = TableKey.parse("risk/curated/scores")

    with writing_for("bank"), pytest.raises(MeshError, match="not to risk/curated/scores"):
        publish(publish_request(key, contract, settings), pa.table({"n": [1]}))

    assert not table_exists(key.uri(settings))
    assert not table_exists(key.quarantine.uri(settings))
