"""``mesh check`` reuses what did not change, and sees every change that matters."""

from pathlib import Path

from platform_lib.cache import fingerprint_of
from tests.governance.scratch_mesh import mesh_check, rules_broken, scratch_mesh

IMPORT_LOG = """
from pathlib import Path as _Path
with (_Path(__file__).resolve().parent.parent / "imports.log").open("a") as _log:
    _log.write("shop\\n")
"""
"""Appended to the shop location: each import of it leaves a line outside its package."""


def imports_of_shop(root: Path) -> int:
    log = root / "imports.log"
    return log.read_text().count("shop") if log.exists() else 0


def test_an_unchanged_location_is_not_imported_again(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path, shop_more=IMPORT_LOG)

    first_code, first = mesh_check(root)
    second_code, second = mesh_check(root)

    assert (first_code, second_code) == (0, 0)
    assert imports_of_shop(root) == 1
    assert second["tables"] == first["tables"] == 2
    assert second["consumer_edges"] == first["consumer_edges"] == 1
    assert list((root / ".mesh" / "cache" / "contracts").iterdir())


def test_no_cache_imports_every_location_again(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path, shop_more=IMPORT_LOG)

    mesh_check(root)
    code, _ = mesh_check(root, "--no-cache")

    assert code == 0
    assert imports_of_shop(root) == 2


def test_a_change_to_a_locations_code_is_seen(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path, shop_more=IMPORT_LOG)
    assert mesh_check(root)[0] == 0
    shop = root / "scratchmesh" / "shop.py"
    shop.write_text(
        shop.read_text()
        .replace(
            "@table(Layer.PRODUCT",
            '@table(Layer.PRODUCT, reads={"inv": reads("billing/product/invoices")}',
        )
        .replace("def orders()", "def orders(inv)")
    )

    code, report = mesh_check(root)

    assert code == 1
    assert "domain-cycle" in rules_broken(report)
    assert imports_of_shop(root) == 2


def test_removing_a_contract_a_cached_location_needs_is_seen(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path)
    assert mesh_check(root)[0] == 0
    (root / "contracts" / "billing" / "product" / "invoices.odcs.yaml").unlink()

    code, report = mesh_check(root)

    assert code == 1
    broken = [v for v in report["violations"] if v["rule_id"] == "location-import"]  # type: ignore[union-attr]
    assert [v["domain"] for v in broken] == ["billing"]
    assert "no data contract" in broken[0]["message"]


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path, shop_more=IMPORT_LOG)
    mesh_check(root)
    for entry in (root / ".mesh" / "cache").rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"not a pickle")

    code, report = mesh_check(root)

    assert code == 0, report
    assert report["tables"] == 2
    assert imports_of_shop(root) == 2


def test_the_platforms_data_files_are_part_of_its_fingerprint(tmp_path: Path) -> None:
    """The ODCS schemas are package data: a changed schema must not leave cached findings."""
    package = tmp_path / "platform_lib"
    (package / "contracts" / "odcs_schemas").mkdir(parents=True)
    (package / "contracts" / "standard.py").write_text("CHECKS = 'by version'\n")
    schema = package / "contracts" / "odcs_schemas" / "odcs-json-schema-v3.1.0.json"
    schema.write_text('{"required": ["status"]}\n')
    before = fingerprint_of(package)

    schema.write_text('{"required": []}\n')

    assert fingerprint_of(package) != before
