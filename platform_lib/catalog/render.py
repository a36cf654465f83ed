"""The catalog as static HTML: ``index.html`` and one page per table, readable with no server.

Plain standard-library string templates; every value from the mesh goes through
:func:`html.escape`. Pages carry their own CSS and the index a few lines of JavaScript for its
search box: nothing is loaded from anywhere else, so the folder can be opened from the file
system, attached to a CI run or served by any static file server.
"""

import datetime as dt
from html import escape
from pathlib import Path
from string import Template

from platform_lib.catalog.model import (
    CatalogCheck,
    CatalogEdge,
    CatalogModel,
    CatalogTable,
    CheckOutcome,
    ColumnSource,
    page_name,
)

INDEX_FILE = "index.html"
TABLES_FOLDER = "tables"
MISSING = "\N{EM DASH}"

_CSS = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --zebra: #f7f9fb; --bg: #ffffff;
  --head: #102a43; --accent: #2f6fdb; --hover: #eef4ff;
}
* { box-sizing: border-box; }
body {
  margin: 0; color: var(--ink); background: var(--bg); font-size: 14px; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "DejaVu Sans", sans-serif;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono",
  monospace; font-size: 12.5px; }
header.bar { background: var(--head); color: #fff; }
header.bar .wrap { display: flex; align-items: baseline; gap: 16px; padding: 14px 28px; }
header.bar a.brand { color: #fff; font-weight: 650; font-size: 16px; letter-spacing: .2px; }
header.bar .meta { color: #9fb3c8; font-size: 12.5px; margin-left: auto; }
.wrap { max-width: 1480px; margin: 0 auto; padding: 0 28px; }
main.wrap { padding-top: 22px; padding-bottom: 40px; }
h1 { font-size: 22px; margin: 0 0 4px; font-weight: 650; }
h2 { font-size: 15px; margin: 28px 0 10px; font-weight: 650; text-transform: uppercase;
  letter-spacing: .6px; color: var(--muted); }
p.lead { margin: 0 0 18px; color: var(--muted); }
.crumbs { font-size: 13px; margin-bottom: 10px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: #fff; }
.card .num { font-size: 22px; font-weight: 650; }
.card .label { color: var(--muted); font-size: 12.5px; }
.card h3 { margin: 0 0 4px; font-size: 15px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table.data { width: 100%; border-collapse: collapse; }
table.data th { text-align: left; font-weight: 600; font-size: 12px; color: var(--muted);
  text-transform: uppercase; letter-spacing: .4px; background: #f0f3f7; padding: 8px 9px;
  border-bottom: 1px solid var(--line); white-space: nowrap; }
table.data td { padding: 7px 9px; border-bottom: 1px solid var(--line); vertical-align: middle; }
table.data tbody tr:last-child td { border-bottom: 0; }
table.data tbody tr:nth-child(even of :not([hidden])) { background: var(--zebra); }
table.data tbody tr:hover { background: var(--hover); }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11.5px;
  font-weight: 600; line-height: 18px; white-space: nowrap; border: 1px solid transparent;
  margin: 1px 2px 1px 0; }
.b-raw { background: #f3efe7; color: #7a5b2a; border-color: #e6dcc8; }
.b-curated { background: #e6f0ff; color: #1f55b5; border-color: #c8dcfb; }
.b-product { background: #f1e9fd; color: #6a35c2; border-color: #ddd0f7; }
.b-public { background: #e3f6ea; color: #1d7a44; border-color: #c3e9d1; }
.b-internal { background: #fff4dc; color: #8a5a00; border-color: #f5e0ad; }
.b-private, .b-none { background: #eef1f4; color: #52606d; border-color: #dde2e7; }
.b-passed { background: #e3f6ea; color: #1d7a44; border-color: #c3e9d1; }
.b-failed { background: #fde8e8; color: #b42318; border-color: #f8c9c5; }
.b-warned { background: #fff4dc; color: #8a5a00; border-color: #f5e0ad; }
.b-not-evaluated, .b-never-run { background: #eef1f4; color: #52606d; border-color: #dde2e7; }
.b-class { background: #fdecef; color: #a3123a; border-color: #f6cbd5; }
.b-quarantine { background: #fff0e6; color: #a1460e; border-color: #f6d5bf; }
.b-deprecated { background: #fde8e8; color: #b42318; border-color: #f8c9c5; }
.muted { color: var(--muted); }
.search { display: flex; align-items: center; gap: 12px; margin: 0 0 10px; }
.search input { width: 420px; max-width: 100%; padding: 7px 11px; font: inherit;
  border: 1px solid #cbd2d9; border-radius: 6px; outline: none; }
.search input:focus { border-color: var(--accent); box-shadow: 0 0 0 3px #d6e4ff; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0;
  border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
"""

_SEARCH_JS = """
const box = document.getElementById("search"), count = document.getElementById("shown");
function filter() {
  const words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
  let shown = 0;
  for (const row of document.querySelectorAll("#tables tbody tr")) {
    row.hidden = !words.every((word) => row.textContent.toLowerCase().includes(word));
    if (!row.hidden) shown += 1;
  }
  count.textContent = shown;
  history.replaceState(null, "", box.value ? "#" + encodeURIComponent(box.value) : " ");
}
box.value = decodeURIComponent(location.hash.slice(1));
box.addEventListener("input", filter);
filter();
"""

_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header class="bar"><div class="wrap"><a class="brand" href="$home">Data mesh catalog</a>\
<span class="meta">$meta</span></div></header>
<main class="wrap">
$body
<footer>Generated by <code>mesh catalog</code> on $generated.</footer>
</main>
$script
</body>
</html>
"""
)


def write_catalog(model: CatalogModel, out: Path) -> list[Path]:
    """Write ``out/index.html`` and ``out/tables/<page>`` for every table; return the pages.

    Pages of tables no longer in the mesh are removed from ``out/tables``.
    """
    tables_dir = out / TABLES_FOLDER
    tables_dir.mkdir(parents=True, exist_ok=True)
    index = out / INDEX_FILE
    index.write_text(render_index(model), encoding="utf-8")
    written = [index]
    for table in model.tables:
        page = tables_dir / table.page
        page.write_text(render_table(model, table), encoding="utf-8")
        written.append(page)
    current = {path.name for path in written[1:]}
    for stale in tables_dir.glob("*.html"):
        if stale.name not in current:
            stale.unlink()
    return written


def render_index(model: CatalogModel) -> str:
    """The index page: every domain and table, with a search box."""
    tables = sorted(model.tables, key=lambda t: t.key)
    materialised = sum(1 for t in tables if t.delta_version is not None)
    failing = sum(t.check_counts[CheckOutcome.FAILED] for t in tables)
    warned = sum(t.check_counts[CheckOutcome.WARNED] for t in tables)
    cards = "".join(
        _card(value, label)
        for value, label in (
            (len(model.domains), "domains"),
            (len(tables), "tables (quarantines included)"),
            (materialised, "materialised in the lake"),
            (failing, f"failing checks ({warned} warned)"),
        )
    )
    domain_cards = "".join(_domain_card(name, members) for name, members in model.domains.items())
    rows = "".join(_index_row(t) for t in tables)
    body = f"""<h1>Data mesh catalog</h1>
<p class="lead">{_source_line(model)}</p>
<div class="cards">{cards}</div>
<h2>Domains</h2>
<div class="cards">{domain_cards}</div>
{_problems(model)}<h2>Tables</h2>
<div class="search"><input id="search" type="search" autocomplete="off" aria-label="Filter tables"
placeholder="Filter by name, domain, owner, status…">
<span class="muted"><span id="shown">{len(tables)}</span> of {len(tables)} tables</span></div>
<div class="scroll"><table class="data" id="tables">
<thead><tr><th>table</th><th>domain</th><th>layer</th><th>owners</th><th>access</th>\
<th class="num">rows</th><th class="num">version</th><th>updated (UTC)</th><th>checks</th>\
</tr></thead>
<tbody>
{rows}</tbody>
</table></div>"""
    return _page(
        title="Data mesh catalog",
        home=INDEX_FILE,
        meta=f"{len(model.domains)} domains · {len(tables)} tables",
        body=body,
        generated=model.generated_at,
        script=f"<script>{_SEARCH_JS}</script>",
    )


def render_table(model: CatalogModel, table: CatalogTable) -> str:
    """The page of one table: contract facts, columns, consumers, producers and checks."""
    index = f"../{INDEX_FILE}"
    badges = _layer_badge(table.layer) + _access_badge(table.access)
    if table.quarantine_of:
        badges += _badge("quarantine", "quarantine")
    contract = table.contract
    if contract and contract.deprecation_date:
        badges += _badge(f"deprecated {contract.deprecation_date.isoformat()}", "deprecated")
    description = contract.description if contract and contract.description else ""
    if table.quarantine_of:
        description = (
            f"Rows rejected by {table.quarantine_of}, with the rules they broke. "
            "It has no contract of its own."
        )
    body = f"""<div class="crumbs"><a href="{_e(index)}">All tables</a> / {_e(table.domain)} / \
{_e(table.layer)}</div>
<h1>{_e(table.key)} {badges}</h1>
<p class="lead">{_e(description) or MISSING}</p>
<div class="two">
<div><h2>About</h2>{_facts(model, table)}</div>
<div><h2>State</h2>{_state(table)}</div>
</div>
<h2>Columns ({len(table.columns)})</h2>
{_columns(table)}
<h2>Consumers ({len(table.consumers)})</h2>
{_edges(model, table.consumers, "consumer", "No table declares a read of this table.")}
<h2>Producers ({len(table.producers)})</h2>
{_edges(model, table.producers, "producer", "This table declares no read of another table.")}
<h2>Checks ({len(table.checks)})</h2>
{_checks(model, table.checks)}"""
    return _page(
        title=f"{table.key} · Data mesh catalog",
        home=index,
        meta=f"{table.domain} · {table.layer}",
        body=body,
        generated=model.generated_at,
        script="",
    )


def _page(
    *, title: str, home: str, meta: str, body: str, generated: dt.datetime, script: str
) -> str:
    return _PAGE.substitute(
        title=_e(title),
        css=_CSS,
        home=_e(home),
        meta=_e(meta),
        body=body,
        generated=_e(_time(generated)),
        script=script,
    )


def _source_line(model: CatalogModel) -> str:
    lake = f"Lake <code>{_e(model.lake_root)}</code>"
    if model.dagster_home is None:
        return f"{lake}; no Dagster instance found, so no materialisation times or check results."
    return f"{lake}; materialisations and checks from the Dagster instance \
<code>{_e(model.dagster_home)}</code>."


def _problems(model: CatalogModel) -> str:
    """The code locations and tables that did not load, one line each (not listed as tables)."""
    if not model.problems:
        return ""
    items = "".join(
        f'<li><b>{_e(p.subject)}</b>: {_e(p.message)} <span class="muted">(fix: {_e(p.fix)})'
        "</span></li>"
        for p in model.problems
    )
    return f"<h2>Not loaded ({len(model.problems)})</h2>\n<ul>{items}</ul>\n"


def _card(value: object, label: str) -> str:
    return f'<div class="card"><div class="num">{_e(value)}</div>\
<div class="label">{_e(label)}</div></div>'


def _domain_card(name: str, members: list[CatalogTable]) -> str:
    owners = sorted({owner for t in members for owner in t.owners})
    published = [t for t in members if not t.quarantine_of]
    layers = "".join(_layer_badge(layer) for layer in sorted({t.layer for t in published}))
    failing = sum(t.check_counts[CheckOutcome.FAILED] for t in members)
    status = _badge(f"{failing} failing", "failed") if failing else ""
    return f"""<div class="card"><h3>{_e(name)}</h3>
<div class="label">{_owners(owners)}</div>
<div>{_count(len(published), "table")} · {_count(len(members) - len(published), "quarantine")}\
</div>
<div>{layers}{status}</div></div>"""


def _index_row(table: CatalogTable) -> str:
    link = f"{TABLES_FOLDER}/{table.page}"
    quarantine = _badge("quarantine", "quarantine") if table.quarantine_of else ""
    return (
        f'<tr><td><a href="{_e(link)}"><code>{_e(table.key)}</code></a></td>'
        f"<td>{_e(table.domain)}</td><td>{_layer_badge(table.layer)}{quarantine}</td>"
        f"<td>{_owners(table.owners)}</td><td>{_access_badge(table.access)}</td>"
        f'<td class="num">{_number(table.rows)}</td>'
        f'<td class="num">{_number(table.delta_version)}</td>'
        f'<td class="nowrap">{_e(_time(table.last_update, zone=False))}</td>'
        f"<td>{_check_summary(table)}</td></tr>\n"
    )


def _facts(model: CatalogModel, table: CatalogTable) -> str:
    contract = table.contract
    facts: list[tuple[str, str]] = [("owners", _owners(table.owners))]
    if contract is not None:
        facts += [
            ("contract", f"<code>{_e(contract.id)}</code> v{_e(contract.version)}"),
            ("status", _e(contract.status)),
            ("file", f"<code>{_e(contract.path)}</code>"),
            (
                "deprecation",
                _e(contract.deprecation_date.isoformat())
                if contract.deprecation_date
                else "not deprecated",
            ),
        ]
    else:
        facts.append(("contract", "none"))
    facts.append(("access", _access_badge(table.access)))
    facts.append(("freshness SLA", _e(_duration(table.freshness))))
    if table.quarantine_of:
        facts.append(("quarantine of", _table_link(model, table.quarantine_of)))
    else:
        quarantine = f"{table.key}__quarantine"
        if model.table(quarantine) is not None:
            facts.append(("rejected rows", _table_link(model, quarantine)))
    return _dl(facts)


def _state(table: CatalogTable) -> str:
    facts = [
        ("rows", _number(table.rows)),
        ("Delta version", _number(table.delta_version)),
        ("last commit", _e(_time(table.lake_updated_at))),
        ("last materialised", _e(_time(table.materialized_at))),
        ("checks", _check_summary(table)),
        ("location", f"<code>{_e(table.uri)}</code>"),
    ]
    return _dl(facts)


def _dl(facts: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{_e(name)}</dt><dd>{value}</dd>" for name, value in facts)
    return f'<dl class="facts">{items}</dl>'


def _columns(table: CatalogTable) -> str:
    if not table.columns:
        return '<p class="muted">Not materialised yet, and no contract lists its columns.</p>'
    note = (
        '<p class="muted">Read from the lake: this table has no contract.</p>'
        if table.columns_source is ColumnSource.LAKE
        else ""
    )
    rows = "".join(
        f"<tr><td><code>{_e(c.name)}</code></td><td><code>{_e(c.type)}</code></td>"
        f"<td>{'yes' if c.required else ''}</td><td>{'yes' if c.unique else ''}</td>"
        f"<td>{_badge(c.classification, 'class') if c.classification else ''}</td>"
        f"<td>{_e(c.description)}</td></tr>\n"
        for c in table.columns
    )
    return f"""{note}<div class="scroll"><table class="data" id="columns">
<thead><tr><th>column</th><th>type</th><th>required</th><th>unique</th><th>classification</th>\
<th>description</th></tr></thead>
<tbody>
{rows}</tbody>
</table></div>"""


def _edges(model: CatalogModel, edges: list[CatalogEdge], role: str, empty: str) -> str:
    if not edges:
        return f'<p class="muted">{_e(empty)}</p>'
    rows = "".join(
        f"<tr><td>{_table_link(model, edge.key)}</td><td>{_e(edge.domain)}</td>"
        f'<td class="num">{_e(edge.major) if edge.major is not None else "any"}</td>'
        f"<td>{_read_columns(edge.columns)}</td></tr>\n"
        for edge in sorted(edges, key=lambda e: e.key)
    )
    return f"""<div class="scroll"><table class="data" id="{_e(role)}s">
<thead><tr><th>{_e(role)}</th><th>domain</th><th class="num">major</th>\
<th>columns read</th></tr></thead>
<tbody>
{rows}</tbody>
</table></div>"""


def _read_columns(columns: dict[str, str | None]) -> str:
    if not columns:
        return '<span class="muted">all</span>'
    return ", ".join(
        f"<code>{_e(name)}</code>" + (f' <span class="muted">{_e(kind)}</span>' if kind else "")
        for name, kind in columns.items()
    )


def _checks(model: CatalogModel, checks: list[CatalogCheck]) -> str:
    if not checks:
        return '<p class="muted">No asset checks.</p>'
    note = (
        '<p class="muted">No Dagster instance was found: results are not shown.</p>'
        if model.dagster_home is None
        else ""
    )
    rows = "".join(
        f"<tr><td><code>{_e(c.name)}</code></td><td>{_outcome_badge(c.outcome)}</td>"
        f"<td>{'blocking' if c.blocking else 'warns'}</td>"
        f'<td>{_e(c.message or c.description)}</td><td class="nowrap">{_e(_time(c.evaluated_at))}'
        "</td></tr>\n"
        for c in sorted(checks, key=lambda c: (_OUTCOME_ORDER.index(c.outcome), c.name))
    )
    return f"""{note}<div class="scroll"><table class="data" id="checks">
<thead><tr><th>check</th><th>latest result</th><th>on failure</th><th>detail</th>\
<th>evaluated</th></tr></thead>
<tbody>
{rows}</tbody>
</table></div>"""


_OUTCOME_ORDER = (
    CheckOutcome.FAILED,
    CheckOutcome.WARNED,
    CheckOutcome.NOT_EVALUATED,
    CheckOutcome.PASSED,
    CheckOutcome.NEVER_RUN,
)
"""Worst first: the order of check results on a table page and in summaries."""


def _table_link(model: CatalogModel, key: str) -> str:
    if model.table(key) is None:
        return f"<code>{_e(key)}</code>"
    return f'<a href="{_e(page_name(key))}"><code>{_e(key)}</code></a>'


def _check_summary(table: CatalogTable) -> str:
    counts = table.check_counts
    shown = [
        _outcome_badge(outcome, f"{counts[outcome]} {outcome.value}")
        for outcome in _OUTCOME_ORDER
        if counts[outcome]
    ]
    return "".join(shown) or f'<span class="muted">{MISSING}</span>'


def _outcome_badge(outcome: CheckOutcome, text: str | None = None) -> str:
    return _badge(text or outcome.value, outcome.value.replace(" ", "-"))


def _layer_badge(layer: str) -> str:
    return _badge(layer, layer)


def _access_badge(access: str | None) -> str:
    return _badge(access, access) if access else _badge("no contract", "none")


def _badge(text: str, kind: str) -> str:
    return f'<span class="badge b-{_e(kind)}">{_e(text)}</span>'


def _owners(owners: list[str]) -> str:
    """Owners, each kept on one line."""
    return ", ".join(f'<span class="nowrap">{_e(owner)}</span>' for owner in owners) or MISSING


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _number(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def _time(value: dt.datetime | None, *, zone: bool = True) -> str:
    if value is None:
        return MISSING
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M" + (" UTC" if zone else ""))


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "none"
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"newest data at most {_count(seconds // size, unit)} old"
    return f"newest data at most {seconds} s old"


def _e(value: object) -> str:
    return escape(str(value), quote=True)
