"""The engine's tiers judge alike: the polars tiers give exactly what the DuckDB query gives.

Generated typed batches (seeded), every rule kind over every column type (lengths on strings), with
nulls, repeats, values that break the rules, ``taken`` values and metric rules: the polars split
(``polars_split.py``), the aggregate pass (``aggregate.py``), the DuckDB query
(``duckdb_query.py``) and ``validate_batch`` must return the same valid rows (same order and
types), the same rejected rows with the same ``violated_rules`` (of the same Arrow type), and the
same verdicts, counts and samples. Where polars would judge a rule differently, the polars tiers
must decline (and ``validate_batch`` then gives the query's answer).
"""

import datetime as dt
import random
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from platform_lib.contracts.model import ColumnContract, TableContract
from platform_lib.contracts.rules import (
    AcceptedValues,
    Comparison,
    Length,
    MetricThreshold,
    NotNull,
    Operator,
    Pattern,
    Range,
    RowCount,
    Rule,
    SqlCheck,
    TypeConforms,
    Unique,
)
from platform_lib.contracts.types import parse_column_type
from platform_lib.conventions import Layer, TableKey
from platform_lib.quality import engine
from platform_lib.quality.aggregate import count_breakers
from platform_lib.quality.engine import CheckedBatch, Tier, validate_batch, validate_with
from platform_lib.quality.polars_split import repeats
from platform_lib.quality.stream import validate_stream
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE

EPOCH = dt.date(1970, 1, 1)
UTC_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NAN = float("nan")
INF = float("inf")

TYPES = (
    "string",
    "int32",
    "int64",
    "float64",
    "boolean",
    "date",
    "timestamp_tz",
    "timestamp",
    "decimal(10,2)",
    "decimal(38,10)",
    "decimal(4,4)",
)
"""Every supported type; floats, timestamps and decimal(4,4) render unlike DuckDB as text."""
AS_TEXT_ALIKE = {"string", "int32", "int64", "boolean", "decimal(10,2)", "decimal(38,10)"}
"""Types polars renders as DuckDB does (dates are compared as dates, patterns on them decline)."""
ORDERED = set(TYPES) - {"string", "boolean"}

POOLS: dict[str, list[object]] = {
    "string": [
        "SE", "NO", "se", "S E", "tx_001", "tx_0001", "acc_\u0663\u0663", "\u0661\u0662", "a\nb",
        "", " ", "\u00e9", "\u00c9", "x1", "ab", "cd", "abcd", "a.b", "a-b", "12", "-5", "EUR",
        "\u00df", "K", "\u212a", "tx_999", "a b", "a\u00a0b", "a\tb", "a\vb", "_", "nan", "true",
    ],
    "int32": [-5, 0, 1, 2, 3, 7, 10, 12, 100, 2**31 - 1, -(2**31)],
    "int64": [-5, 0, 1, 3, 12, 2**53 + 1, 2**53, -(2**63), 2**62, 9_007_199_254_740_993],
    "float64": [0.0, -0.0, 1.0, 0.1, 2.5, NAN, INF, -INF, 1e20, -3.0, 1e-7, 12.0],
    "boolean": [True, False],
    "date": [20_454, 20_453, -719_162, 2_932_896, 0, 19_782, 3_000_000, -800_000, -719_163],
    "timestamp_tz": [0, 1_767_225_600_000_000, 1_767_225_600_000_001, -1, 253_402_214_400_000_000],
    "timestamp": [0, 1_767_225_600_000_000, 1_767_232_800_000_000, 5, -86_400_000_000],
    "decimal(10,2)": ["1.50", "-0.50", "0.00", "12345678.90", "1.05", "-1.00", "99999999.99", "3"],
    "decimal(38,10)": [
        "1000000.0000000001", "1000000", "0.1050000000", "-0.0000000001", "0.1", "12",
        "1234567890123456789012345678.0123456789",
    ],
    "decimal(4,4)": ["0.5", "-0.001", "0.9999", "0", "0.1050"],
}  # fmt: skip
"""Values with duplicates and edge cases (dates and timestamps as days and microseconds)."""

JUNK_TEXT = [
    "", "nan", "NaN", "1.0", "1", "true", "TRUE", "0.5", ".5000", "0.5000", "-0.00", "0.00",
    "2026-01-01", "2026-01-01 00:00:00", "10000-01-01", "infinity", "1e-07", "1e-7", "12.0",
]  # fmt: skip
PATTERNS = [
    r"^[A-Z]{2}$", r"\d+", r"[a-z_]+\d?", r"\w+", r"\s*\S+", r"(ab|cd)*", r".{2,4}",
    r"tx_[0-9]{3}", r"[^0-9]+", r"a.b", r"[\d-]+", r"\.x|x\.", r"-?\d+(\.\d+)?", r"[A-Za-z\s]+",
    r"t.*", r"\W+", r"\D*", r"[\w.]+", r"", r"-?\d{1,3}", r"\d{4}-\d{2}-\d{2}", r"(true|1)",
]  # fmt: skip
"""RE2 patterns that translate to Rust's regex."""
ODD_PATTERNS = [
    r"(?i)ab", r"\bx", r"[[:alpha:]]+", r"a{2}{3}", r"\pL+", r"a++", r"[a-\d]", r"a\z",
    r"(?P<n>ab)", r"\p{Greek}", r"x{1001}",
]  # fmt: skip
"""Patterns the polars path must decline: flags, Unicode classes, word boundaries, stacked
repetitions, named groups, counts RE2 refuses."""


# -- generation ---------------------------------------------------------------------------------


def arrow_type(type_name: str) -> pa.DataType:
    column_type = parse_column_type(type_name)
    assert column_type is not None
    return column_type.arrow


def to_arrow(values: list[object], type_name: str) -> pa.Array:
    """Python values (days, microseconds, decimal text) as an Arrow array of ``type_name``."""
    target = arrow_type(type_name)
    if type_name == "date":
        return pa.array(values, pa.int32()).cast(target)
    if type_name.startswith("timestamp"):
        return pa.array(values, pa.int64()).cast(target)
    if type_name.startswith("decimal"):
        return pa.array([None if v is None else Decimal(str(v)) for v in values], target)
    return pa.array(values, target)


def spread_value(rng: random.Random, type_name: str) -> object:
    """A value from a large space (few repeats)."""
    if type_name == "string":
        alphabet = "abcxyzAB_09 .-\u00e9\u0663\n"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
    if type_name == "int32":
        return rng.randint(-(2**31), 2**31 - 1)
    if type_name == "int64":
        return rng.randint(-(2**63), 2**63 - 1)
    if type_name == "float64":
        return rng.choice([rng.uniform(-1e3, 1e3), rng.uniform(-1, 1) * 10 ** rng.randint(-9, 20)])
    if type_name == "boolean":
        return rng.random() < 0.5
    if type_name == "date":
        return rng.randint(-719_162, 2_932_896)
    if type_name.startswith("timestamp"):
        return rng.randint(-(10**15), 10**16)
    precision, scale = (int(p) for p in type_name[8:-1].split(","))
    largest = 10 ** rng.randint(1, precision) - 1
    unscaled = rng.randint(-largest, largest)
    return str(Decimal(unscaled).scaleb(-scale))


def column_values(rng: random.Random, type_name: str, rows: int) -> list[object]:
    pool = POOLS[type_name]
    null_share = rng.choice([0.0, 0.02, 0.2])
    if rng.random() < 0.5:  # a few repeated values
        choices = rng.sample(pool, rng.randint(1, len(pool)))
        values = [rng.choice(choices) for _ in range(rows)]
    else:  # mostly distinct, with a few pool values and repeats mixed in
        values = [spread_value(rng, type_name) for _ in range(rows)]
        for _ in range(rng.choice([0, 1, 5])):
            values[rng.randrange(rows)] = rng.choice(pool)
        for _ in range(rng.choice([0, 0, 2])):
            values[rng.randrange(rows)] = values[rng.randrange(rows)]
    return [None if rng.random() < null_share else v for v in values]


def duckdb_texts(values: pa.Array) -> list[str]:
    """The distinct non-null values as DuckDB's ``CAST(value AS VARCHAR)`` renders them."""
    table = pa.table({"v": values})
    with duckdb.connect() as connection:
        connection.register("t", table)
        rows = connection.sql("SELECT DISTINCT CAST(v AS VARCHAR) FROM t WHERE v IS NOT NULL")
        return sorted(str(r[0]) for r in rows.fetchall())


def some_texts(rng: random.Random, texts: list[str], *, at_least: int = 1) -> tuple[str, ...]:
    chosen = rng.sample(texts, rng.randint(0, min(len(texts), 8))) if texts else []
    if rng.random() < 0.3:
        chosen += rng.sample(JUNK_TEXT, rng.randint(1, 3))
    while len(chosen) < at_least:
        chosen.append(rng.choice(JUNK_TEXT))
    return tuple(dict.fromkeys(chosen))


def a_pattern(rng: random.Random) -> str:
    return rng.choice(ODD_PATTERNS if rng.random() < 0.1 else PATTERNS)


def a_bound(rng: random.Random, type_name: str, values: pa.Array) -> object:
    """A range bound for a column: mostly of the column's kind (the last few: of another)."""
    candidates = bound_values(type_name, values)
    odd = 3
    if rng.random() < 0.1:
        return rng.choice(candidates[-odd:])
    return rng.choice(candidates[:-odd])


def bound_values(type_name: str, values: pa.Array) -> list[object]:
    """Candidate range bounds for a column, the last three of another kind."""
    if type_name in ("int32", "int64", "float64") or type_name.startswith("decimal"):
        present = [v for v in values.to_pylist() if v is not None]
        numbers = [float(v) for v in present[:50]]  # type: ignore[arg-type]
        return [*numbers, 0.0, 2.5, -1.0, 1e6, INF, -INF, 0.105, NAN, "3", dt.date(2026, 1, 1)]
    if type_name == "date":
        days = [d for d in POOLS["date"] if -719_162 <= int(d) <= 2_932_896]  # type: ignore[call-overload]
        dates: list[object] = [EPOCH + dt.timedelta(days=int(d)) for d in days]  # type: ignore[call-overload]
        return [*dates, "2026-01-01", dt.datetime(2026, 1, 1), 3.0]
    if type_name.startswith("timestamp"):
        aware = type_name == "timestamp_tz"
        stamps = [UTC_EPOCH + dt.timedelta(microseconds=int(m)) for m in POOLS[type_name]]  # type: ignore[call-overload]
        plus_two = dt.timezone(dt.timedelta(hours=2))
        good: list[object] = [s if aware else s.replace(tzinfo=None) for s in stamps]
        good += [s.astimezone(plus_two) for s in stamps] if aware else []
        other = stamps[0].replace(tzinfo=None) if aware else stamps[0]
        return [*good, other, dt.date(2026, 1, 1), "2026-01-01"]
    return [1.0, "b", 0.0, 2.0]


def make_case(
    seed: int,
) -> tuple[pa.Table, TableContract, dict[str, pa.Array]]:
    """A typed batch, a contract over it and ``taken`` values, all from ``seed``."""
    rng = random.Random(seed)
    rows = rng.randint(1_500, 3_000)
    names = [f"c{i}" for i in range(rng.randint(2, 6))]
    types = {name: rng.choice(TYPES) for name in names}
    arrays = {name: to_arrow(column_values(rng, types[name], rows), types[name]) for name in names}
    rules: list[Rule] = []
    taken: dict[str, pa.Array] = {}
    ids = iter(range(1_000))

    def rule_id() -> str:
        return f"r{next(ids)}"

    for name in names:
        kind, values = types[name], arrays[name]
        texts = duckdb_texts(values)
        as_text = 0.4 if kind in AS_TEXT_ALIKE or kind == "date" else 0.05  # else: the query
        pattern = 0.4 if kind in AS_TEXT_ALIKE else 0.05
        rules.append(TypeConforms(id=rule_id(), column=name, type_name=kind))
        if rng.random() < 0.4:
            missing = some_texts(rng, texts, at_least=0) if rng.random() < as_text else ()
            rules.append(NotNull(id=rule_id(), column=name, missing_values=missing))
        if rng.random() < 0.4:
            rules.append(Unique(id=rule_id(), column=name))
            if rng.random() < 0.5:
                picked = values.take(pa.array(rng.sample(range(len(values)), 3)))
                taken[name] = pa.concat_arrays([picked, pa.nulls(1, values.type)])
        if rng.random() < as_text:
            accepted = some_texts(rng, texts)
            rules.append(AcceptedValues(id=rule_id(), column=name, values=accepted))
        if rng.random() < pattern:
            rules.append(Pattern(id=rule_id(), column=name, pattern=a_pattern(rng)))
        if kind == "string" and rng.random() < 0.4:
            shortest, longest = rng.choice([(None, 3), (2, None), (1, 4), (0, 0)])
            rules.append(Length(id=rule_id(), column=name, at_least=shortest, at_most=longest))
        if rng.random() < (0.5 if kind in ORDERED else 0.05):
            bounds = {
                key: a_bound(rng, kind, values)
                for key in rng.sample(["greater_than", "at_least", "less_than", "at_most"], 2)
                if rng.random() < 0.8
            }
            if bounds:
                rules.append(Range(id=rule_id(), column=name, **bounds))  # type: ignore[arg-type]
        for metric in ("nullValues", "missingValues", "invalidValues", "duplicateValues"):
            textual = metric in ("missingValues", "invalidValues")
            if rng.random() < (as_text if textual else 0.4) * 0.6:
                extra: dict[str, object] = {}
                if metric == "missingValues":
                    extra["missing_values"] = some_texts(rng, texts, at_least=0)
                if metric == "invalidValues":
                    if rng.random() < 0.5:
                        extra["valid_values"] = some_texts(rng, texts)
                    else:
                        extra["pattern"] = a_pattern(rng)
                comparison = Comparison(operator=Operator.LESS_OR_EQUAL, value=rng.choice([0, 5]))
                rules.append(
                    MetricThreshold(
                        id=rule_id(),
                        metric=metric,  # type: ignore[arg-type]
                        column=name,
                        comparison=comparison,
                        percent=rng.random() < 0.5,
                        **extra,  # type: ignore[arg-type]
                    )
                )
    rng.shuffle(rules)  # rule order is the order of ``violated_rules``
    rules.append(RowCount(id=rule_id(), comparison=Comparison(operator=Operator.GREATER, value=0)))
    if rng.random() < 0.3:
        query = f"SELECT count(*) FROM ${{table}} WHERE {names[0]} IS NULL"  # noqa: S608
        rules.append(
            SqlCheck(
                id=rule_id(), query=query, comparison=Comparison(operator=Operator.EQUAL, value=0)
            )
        )
    columns = tuple(
        ColumnContract(
            name=name,
            type_name=types[name],
            logical_type="string",
            required=any(isinstance(r, NotNull) and r.column == name for r in rules),
            primary_key=index == 0 and types[name] != "date" and rng.random() < 0.3,
        )
        for index, name in enumerate(names)
    )
    contract = TableContract(
        id="test.paths",
        version="1.0.0",
        key=TableKey(domain="test", layer=Layer.CURATED, table="paths"),
        source=Path("paths.odcs.yaml"),
        columns=columns,
        rules=tuple(rules),
        quarantine_threshold=rng.choice([0.05, 0.5, 1.0]),
    )
    batch = pa.table({**arrays, "_line_number": pa.array(range(1, rows + 1), pa.int64())})
    if rng.random() < 0.3:  # several chunks, as a batch read from Delta has
        cut = rng.randrange(1, rows)
        batch = pa.concat_tables([batch.slice(0, cut), batch.slice(cut)])
    if rng.random() < 0.2:  # text as large_string, which polars reads as String too
        batch = batch.cast(
            pa.schema(
                [
                    f.with_type(pa.large_string()) if f.type == pa.string() else f
                    for f in batch.schema
                ]
            )
        )
    return batch, contract, taken


# -- comparison ---------------------------------------------------------------------------------


def exact(table: pa.Table) -> pa.Table:
    """``table`` with float columns as their bits, so NaN equals NaN and -0.0 is not 0.0."""
    columns = [
        column.combine_chunks().view(pa.int64()) if pa.types.is_float64(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def assert_same(found: CheckedBatch | None, expected: CheckedBatch) -> None:
    """Equal contents, types (list fields' item names too) and verdicts."""
    assert found is not None
    for part in ("valid", "rejected"):
        got, want = getattr(found, part), getattr(expected, part)
        assert got.schema.equals(want.schema), part
        assert str(got.schema) == str(want.schema), part
        assert exact(got).equals(exact(want)), part
    assert found.result == expected.result


def by_query(
    batch: pa.Table, contract: TableContract, taken: dict[str, pa.Array] | None = None
) -> CheckedBatch:
    """The DuckDB query's answer, which every tier must give."""
    checked = validate_with(Tier.DUCKDB_QUERY, batch, contract, taken=taken)
    assert checked is not None
    return checked


def run_paths(seed: int) -> tuple[str, CheckedBatch]:
    """The tiers over one generated case; the tier the engine took, and the query's answer."""
    batch, contract, taken = make_case(seed)
    queried = by_query(batch, contract, taken)
    assert_same(validate_batch(batch, contract, taken=taken), queried)
    if seed % 4 == 0:  # the valid rows again: mostly the aggregate pass, whose verdicts agree too
        clean = queried.valid
        assert_same(validate_batch(clean, contract), by_query(clean, contract))
    counts = count_breakers(batch, contract, taken)
    if counts is None:
        assert validate_with(Tier.AGGREGATE, batch, contract, taken=taken) is None
        assert validate_with(Tier.POLARS_SPLIT, batch, contract, taken=taken) is None
        return "query", queried
    if not any(counts[rule.id] for rule in contract.row_rules):
        assert queried.rejected.num_rows == 0
        assert_same(validate_with(Tier.AGGREGATE, batch, contract, taken=taken), queried)
        return "aggregate", queried
    assert validate_with(Tier.AGGREGATE, batch, contract, taken=taken) is None
    in_polars = validate_with(Tier.POLARS_SPLIT, batch, contract, taken=taken)
    if in_polars is None:
        return "query", queried
    assert_same(in_polars, queried)
    return "polars", queried


# -- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", range(8))
def test_the_polars_split_gives_what_the_query_gives(block: int) -> None:
    paths: Counter[str] = Counter()
    rejected = 0
    for seed in range(block * 20, block * 20 + 20):
        path, checked = run_paths(seed)
        paths[path] += 1
        rejected += checked.rejected.num_rows if path == "polars" else 0
    assert paths["polars"] >= 4, paths  # the generated cases reach the polars split
    assert rejected > 0


@pytest.mark.parametrize("seed", range(20))
def test_typed_batches_of_well_behaved_types_take_the_polars_split(seed: int) -> None:
    """Strings, integers and decimals with an integer digit, every rule kind: no fallback."""
    rng = random.Random(seed)
    rows = 2_000
    kinds = ["string", "int64", "decimal(10,2)", "int32", "date", "string"]
    arrays = {f"c{i}": to_arrow(column_values(rng, k, rows), k) for i, k in enumerate(kinds)}
    rules: list[Rule] = []
    for i, kind in enumerate(kinds):
        name = f"c{i}"
        texts = duckdb_texts(arrays[name])
        missing = ("", "0")[: i % 3]
        if kind == "date":  # only texts of dates in years 1-9999 are compared as dates
            texts = [t for t in texts if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t)]
            missing = ("2026-01-01",)
        rules += [
            TypeConforms(id=f"{name}_type", column=name, type_name=kind),
            NotNull(id=f"{name}_required", column=name, missing_values=missing),
            Unique(id=f"{name}_unique", column=name),
            AcceptedValues(id=f"{name}_known", column=name, values=texts[::2] or ("x",)),
            MetricThreshold(
                id=f"{name}_dupes",
                metric="duplicateValues",
                column=name,
                comparison=Comparison(operator=Operator.LESS, value=10),
            ),
        ]
        if kind != "date":
            rules.append(Pattern(id=f"{name}_pattern", column=name, pattern=r"[\w.-]{1,4}"))
        else:
            rules.append(Range(id=f"{name}_range", column=name, at_least=dt.date(2000, 1, 1)))
    contract = TableContract(
        id="test.typed",
        version="1.0.0",
        key=TableKey(domain="test", layer=Layer.CURATED, table="typed"),
        source=Path("typed.odcs.yaml"),
        columns=tuple(
            ColumnContract(name=n, type_name=k, logical_type="x")
            for n, k in zip(arrays, kinds, strict=True)
        ),
        rules=tuple(rules),
    )
    batch = pa.table(arrays)
    taken = {"c1": pa.array([v for v in arrays["c1"].to_pylist()[:5] if v is not None], pa.int64())}
    in_polars = validate_with(Tier.POLARS_SPLIT, batch, contract, taken=taken)
    assert in_polars is not None
    assert_same(in_polars, by_query(batch, contract, taken))


def test_the_benchmark_table_splits_alike() -> None:
    """The benchmark's card transactions with 5% bad rows: one of every defect."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        import data  # benchmarks/data.py
    finally:
        sys.path.pop(0)
    from platform_lib.contracts.loader import load_contract

    contract = load_contract(Path(data.__file__).parent / "contract.odcs.yaml").contract
    batch = data.make_transactions(20_000, seed=7, bad_share=0.05)
    in_polars = validate_with(Tier.POLARS_SPLIT, batch, contract)
    assert in_polars is not None and in_polars.rejected.num_rows > 500
    assert_same(in_polars, by_query(batch, contract))


def test_every_tier_gives_violated_rules_the_one_arrow_type() -> None:
    """Quarantines get rejected rows from every tier over time: one type, item name included."""
    contract = one_rule_contract("int64", NotNull(id="r", column="v"))
    typed = pa.table({"v": pa.array([1, None], pa.int64())})
    clean = pa.table({"v": pa.array([1, 2], pa.int64())})
    checked = {
        "aggregate": validate_with(Tier.AGGREGATE, clean, contract),
        "polars split": validate_with(Tier.POLARS_SPLIT, typed, contract),
        "query": validate_with(Tier.DUCKDB_QUERY, typed, contract),
        "query over text": validate_batch(pa.table({"v": ["1", None]}), contract),
        "stream": validate_stream([typed.slice(0, 1), typed.slice(1)], contract, typed.schema),
    }

    for tier, result in checked.items():
        assert result is not None, tier
        violations = result.rejected.schema.field(VIOLATIONS_COLUMN).type
        assert str(violations) == str(VIOLATIONS_TYPE) == "list<item: string>", tier
        assert result.rejected.num_rows == (0 if tier == "aggregate" else 1), tier


# -- what falls back, and why -------------------------------------------------------------------


def one_rule_contract(type_name: str, rule: Rule) -> TableContract:
    return TableContract(
        id="test.one",
        version="1.0.0",
        key=TableKey(domain="test", layer=Layer.CURATED, table="one"),
        source=Path("one.odcs.yaml"),
        columns=(ColumnContract(name="v", type_name=type_name, logical_type="x"),),
        rules=(rule,),
    )


@pytest.mark.parametrize(
    ("type_name", "values", "rule"),
    [
        # DuckDB renders 1e-07, nan and .5000; polars 1e-7, NaN and 0.5000
        ("float64", [1e-7, NAN], AcceptedValues(id="r", column="v", values=("1e-07", "nan"))),
        ("decimal(4,4)", ["0.5"], AcceptedValues(id="r", column="v", values=(".5000",))),
        # polars prints timestamps with microseconds, DuckDB drops zero ones
        ("timestamp", [0], Pattern(id="r", column="v", pattern=r"1970-01-01 00:00:00")),
        # DuckDB casts the text bound to a date; polars would compare text
        ("date", [0], Range(id="r", column="v", at_least="1970-01-02")),
        ("float64", [1.0], Range(id="r", column="v", at_most=NAN)),
        # a date text that no in-range date renders as
        ("date", [0], AcceptedValues(id="r", column="v", values=("infinity",))),
        # RE2's \b is ASCII, Rust's is Unicode; (?i) folds case by different tables
        ("string", ["\u00e9x"], Pattern(id="r", column="v", pattern=r"\bx")),
        ("string", ["K"], Pattern(id="r", column="v", pattern=r"(?i)k")),
    ],
)
def test_rules_polars_would_judge_differently_take_the_query(
    type_name: str, values: list[object], rule: Rule
) -> None:
    contract = one_rule_contract(type_name, rule)
    batch = pa.table({"v": to_arrow(values, type_name)})

    assert count_breakers(batch, contract) is None
    assert validate_with(Tier.POLARS_SPLIT, batch, contract) is None
    assert_same(validate_batch(batch, contract), by_query(batch, contract))


def test_taken_values_of_another_type_take_the_query() -> None:
    contract = one_rule_contract("int64", Unique(id="r", column="v"))
    batch = pa.table({"v": pa.array([1, 1, 2], pa.int64())})
    taken = {"v": pa.array([2], pa.int32())}

    assert count_breakers(batch, contract, taken) is None
    checked = validate_batch(batch, contract, taken=taken)
    assert checked.rejected.column("violated_rules").to_pylist() == [["r"], ["r"]]


@pytest.mark.parametrize("type_name", TYPES)
def test_repeats_are_the_rows_after_the_first_of_their_value(type_name: str) -> None:
    """The hash-first search for repeats finds exactly what grouping by value finds."""
    rng = random.Random(type_name)
    for _ in range(5):
        values = pl.Series(to_arrow(column_values(rng, type_name, 3_000), type_name))
        expected = values.is_not_null() & ~values.is_first_distinct()
        assert repeats(values).to_list() == expected.to_list()


@pytest.mark.parametrize("seed", [4, 9, 26])
def test_valid_rows_copied_a_column_per_thread_are_the_same(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large batches filter their valid rows a column per thread; force it on small ones."""
    monkeypatch.setattr(engine, "THREADED_ROWS", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    batch, contract, taken = make_case(seed)
    in_polars = validate_with(Tier.POLARS_SPLIT, batch, contract, taken=taken)
    assert in_polars is not None
    assert_same(in_polars, by_query(batch, contract, taken))
