"""``mesh catalog`` end to end: the demo mesh materialised once, the catalog written by the CLI,
read back as HTML, and rendered by a real headless Chromium (Debian's, which ``.ci/run`` installs).
"""

import json
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.run import materialize_mesh
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for, run_command

CHROMIUM = Path("/usr/bin/chromium")
CURATED = "payments/curated/transactions"
CURATED_PAGE = "payments__curated__transactions.html"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WINDOW = (1400, 900)


class Page(HTMLParser):
    """The parts of a catalog page the tests read: links, and the cells of each table by id."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        """href -> link text."""
        self.tables: dict[str, list[list[str]]] = {}
        """Table id -> body rows -> cell texts."""
        self._href: str | None = None
        self._link_text: list[str] = []
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a":
            self._href, self._link_text = attributes.get("href"), []
        elif tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._table and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links[self._href] = "".join(self._link_text).strip()
            self._href = None
        elif tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._link_text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def mesh(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_command(["mesh", *args], env)


@pytest.fixture(scope="module")
def catalog(module_mesh_env: MeshEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog folder ``mesh catalog`` wrote for the materialised demo mesh."""
    demo = load_mesh(PROJECT_ROOT).require_loaded()
    report = materialize_mesh(demo, list(demo.tables), instance_for(module_mesh_env))
    assert report.succeeded, report
    out = tmp_path_factory.mktemp("catalog")

    result = mesh(["catalog", "--out", str(out)], module_mesh_env.environ())

    assert result.returncode == 0, result.stdout + result.stderr
    assert str((out / "index.html").resolve()) in result.stdout
    return out


@pytest.fixture(scope="module")
def table_keys(module_mesh_env: MeshEnv, catalog: Path) -> list[str]:
    """Every key ``mesh tables --json`` lists (quarantines included)."""
    listed = mesh(["tables", "--json"], module_mesh_env.environ())
    assert listed.returncode == 0, listed.stderr
    return [table["key"] for table in json.loads(listed.stdout)]


def require_chromium() -> Path:
    """Debian's chromium; its absence fails the test (CI must not silently skip the browser)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the catalog's browser test needs Debian's chromium, which "
            "`make test` installs when missing (scripts/system-deps)",
            pytrace=False,
        )
    return CHROMIUM


def test_index_lists_every_table_with_a_page(catalog: Path, table_keys: list[str]) -> None:
    index = parse(catalog / "index.html")

    listed = {row[0] for row in index.tables["tables"]}
    pages = {href: text for href, text in index.links.items() if href.startswith("tables/")}

    assert listed == set(table_keys)
    assert "payments/curated/transactions__quarantine" in listed
    assert set(pages.values()) == set(table_keys)
    assert all((catalog / href).is_file() for href in pages)


def test_table_page_shows_columns_consumers_and_checks(catalog: Path) -> None:
    page = parse(catalog / "tables" / CURATED_PAGE)

    columns = {row[0]: row for row in page.tables["columns"]}
    consumers = {row[0]: row for row in page.tables["consumers"]}
    checks = {row[0]: row[1] for row in page.tables["checks"]}

    assert list(columns) == [
        "transaction_id",
        "account_id",
        "amount",
        "currency",
        "merchant",
        "created_at",
        "status",
    ]
    assert columns["amount"][1] == "decimal(18,2)"
    assert columns["account_id"][4] == "restricted"
    revenue = consumers["finance/product/daily_revenue"]
    assert revenue[1:3] == ["finance", "1"]
    assert set(revenue[3].split(", ")) == {"amount", "currency", "created_at", "status"}
    assert {"payments/product/settlements", "payments/product/settlements_v2"} <= set(consumers)
    assert [row[0] for row in page.tables["producers"]] == ["payments/raw/transactions"]
    assert checks["has_rows"] == "passed"
    assert page.links["../index.html"] == "All tables"
    assert (catalog / "tables" / "finance__product__daily_revenue.html").is_file()
    assert "finance__product__daily_revenue.html" in page.links


def test_without_a_dagster_instance_the_lake_is_shown_and_none_is_created(
    module_mesh_env: MeshEnv, catalog: Path, tmp_path: Path
) -> None:
    home = tmp_path / "no-dagster-home"
    env = {**module_mesh_env.environ(), "DAGSTER_HOME": str(home)}

    result = mesh(["catalog", "--out", str(tmp_path / "out")], env)
    index = parse(tmp_path / "out" / "index.html")
    page = parse(tmp_path / "out" / "tables" / CURATED_PAGE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert not home.exists()
    rows = {row[0]: row for row in index.tables["tables"]}
    assert rows[CURATED][5] != "\N{EM DASH}"  # rows, from the lake
    assert {row[1] for row in page.tables["checks"]} == {"never run"}


def test_pages_render_in_a_headless_browser(catalog: Path, tmp_path: Path) -> None:
    chromium = require_chromium()
    for name, target in (
        ("index", catalog / "index.html"),
        ("table", catalog / "tables" / CURATED_PAGE),
    ):
        png = tmp_path / f"{name}.png"
        browse(chromium, tmp_path, target.as_uri(), f"--screenshot={png}")

        assert_real_screenshot(png)


def test_index_dom_has_every_table_and_filters_rows(
    catalog: Path, table_keys: list[str], tmp_path: Path
) -> None:
    chromium = require_chromium()
    index = (catalog / "index.html").as_uri()

    full = browse(chromium, tmp_path, index, "--dump-dom")
    filtered = browse(chromium, tmp_path, f"{index}#fraud%20product", "--dump-dom")

    assert all(key in full for key in table_keys)
    assert full.count("<tr hidden") == 0
    fraud = [key for key in table_keys if key.startswith("fraud/product/")]
    assert filtered.count("<tr hidden") == len(table_keys) - len(fraud)
    assert f'id="shown">{len(fraud)}<' in filtered


def browse(chromium: Path, tmp_path: Path, url: str, *action: str) -> str:
    """Run headless Chromium on ``url`` with ``action`` (a screenshot or a DOM dump)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    result = subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            *action,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_real_screenshot(png: Path) -> None:
    """A PNG of the window's size, > 10 KB, whose pixels are not all one colour."""
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, (png, len(data))
    chunks = png_chunks(data)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert (width, height) == WINDOW
    assert len(set(pixels[:: max(1, len(pixels) // 50_000)])) > 32


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    """Chunk type -> its data (IDAT chunks concatenated)."""
    chunks: dict[bytes, bytes] = {}
    offset = len(PNG_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks[kind] = chunks.get(kind, b"") + data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return chunks
