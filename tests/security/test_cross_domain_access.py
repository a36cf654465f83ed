"""Reads across domains, run by Dagster for real: private tables refused, restricted columns
masked unless a declared purpose is allowed, and a domain's writes kept under its own prefix."""

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import DagsterInstance, Definitions, ExecuteInProcessResult
from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, TableKey, domain_definitions, reads, table
from platform_lib.contracts.registry import ContractRegistry, load_registry
from platform_lib.lake.publish import publish_rows
from platform_lib.lake.reader import read_arrow, table_exists
from platform_lib.orchestration.table_spec import TableSpec
from platform_lib.settings import resolve_settings
from tests.conftest import MeshEnv, publish_request
from tests.security.bank_contracts import (
    ACCOUNT_COLUMNS,
    PAIR_COLUMNS,
    PRODUCER_PURPOSES,
    contract,
)

ACCOUNTS = ["acc-1", "acc-2", "acc-1", None]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@table(Layer.CURATED)
def accounts() -> pa.Table:
    """Bank accounts (public, account_id restricted)."""
    return pa.table({"account_id": ACCOUNTS, "amount": [10, 20, 30, 40]})


@table(Layer.CURATED)
def ledger() -> pa.Table:
    """Bank's private ledger."""
    return pa.table({"account_id": ["acc-9"], "amount": [99]})


@table(Layer.CURATED)
def branches() -> pa.Table:
    """Bank's internal table."""
    return pa.table({"account_id": ["acc-7"], "amount": [7]})


@table(Layer.PRODUCT, reads={"ledger": reads("bank/curated/ledger")})
def ledger_total(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """The owner reads its own private table."""
    return duckdb.sql("SELECT account_id, sum(amount) AS amount FROM ledger GROUP BY ALL")


def bank(root: Path) -> Definitions:
    contract(root, "bank/curated/accounts", ACCOUNT_COLUMNS, properties=PRODUCER_PURPOSES)
    contract(root, "bank/curated/ledger", ACCOUNT_COLUMNS, access="private")
    contract(root, "bank/curated/branches", ACCOUNT_COLUMNS, access="internal")
    contract(root, "bank/product/ledger_total", PAIR_COLUMNS, access="private")
    return domain_definitions(
        "bank", tables=[accounts, ledger, branches, ledger_total], contracts=registry(root)
    )


def purposes(purpose: str) -> str:
    return f"""  - property: readPurposes
    value:
      - {{table: bank/curated/accounts, purpose: {purpose}, columns: [account_id]}}
"""


def registry(root: Path) -> ContractRegistry:
    return load_registry(root / "contracts")


def run(defs: Definitions) -> ExecuteInProcessResult:
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)


def failures(result: ExecuteInProcessResult) -> str:
    """Every step failure's message and description, joined."""
    texts = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            data = event.step_failure_data
            error = data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
            if data.user_failure_data is not None:
                texts.append(data.user_failure_data.description or "")
    return "\n".join(texts)


def risk_table(name: str, producer: str, sql: str) -> TableSpec:
    def compute(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
        return duckdb.sql(sql)

    compute.__name__ = name
    return table(Layer.PRODUCT, reads={"src": reads(producer)})(compute)


def risk(root: Path, spec: TableSpec, *, properties: str = "") -> Definitions:
    contract(root, f"risk/product/{spec.name}", PAIR_COLUMNS, properties=properties)
    return domain_definitions("risk", tables=[spec], contracts=registry(root))


def published(key: str) -> pa.Table:
    return read_arrow(TableKey.parse(key).uri(resolve_settings())).sort_by("amount")


@pytest.fixture
def bank_published(mesh_env: MeshEnv) -> Path:
    assert run(bank(mesh_env.root)).success
    return mesh_env.root


def test_restricted_columns_arrive_hashed_in_another_domain(bank_published: Path) -> None:
    spec = risk_table("copied", "bank/curated/accounts", "SELECT * FROM src")

    assert run(risk(bank_published, spec)).success

    rows = published("risk/product/copied")
    assert rows["account_id"].to_pylist() == [
        sha256("acc-1"),
        sha256("acc-2"),
        sha256("acc-1"),
        None,
    ]
    assert rows["amount"].to_pylist() == [10, 20, 30, 40]


def test_masked_values_still_join_and_group(bank_published: Path) -> None:
    sql = "SELECT account_id, sum(amount)::BIGINT AS amount FROM src GROUP BY ALL"
    spec = risk_table("per_account", "bank/curated/accounts", sql)

    assert run(risk(bank_published, spec)).success

    rows = dict(zip(*published("risk/product/per_account").to_pydict().values(), strict=True))
    assert rows == {sha256("acc-1"): 40, sha256("acc-2"): 20, None: 40}


def test_the_clear_values_are_not_reachable_through_the_connection(bank_published: Path) -> None:
    spec = risk_table("sneaky", "bank/curated/accounts", 'SELECT * FROM "__input_src"')

    assert run(risk(bank_published, spec)).success

    assert "acc-1" not in published("risk/product/sneaky")["account_id"].to_pylist()


def test_an_allowed_declared_purpose_reads_in_clear(bank_published: Path) -> None:
    spec = risk_table("clear", "bank/curated/accounts", "SELECT * FROM src")

    assert run(risk(bank_published, spec, properties=purposes("fraud detection"))).success

    assert published("risk/product/clear")["account_id"].to_pylist() == ACCOUNTS


def test_a_purpose_the_producer_does_not_allow_stays_masked(bank_published: Path) -> None:
    spec = risk_table("marketing", "bank/curated/accounts", "SELECT * FROM src")

    assert run(risk(bank_published, spec, properties=purposes("marketing"))).success

    assert published("risk/product/marketing")["account_id"].to_pylist()[0] == sha256("acc-1")


def test_a_private_table_of_another_domain_is_refused(bank_published: Path) -> None:
    spec = risk_table("peek", "bank/curated/ledger", "SELECT * FROM src")

    result = run(risk(bank_published, spec))

    assert not result.success
    assert "risk/product/peek reads bank/curated/ledger, which is private to bank" in failures(
        result
    )
    assert not table_exists(TableKey.parse("risk/product/peek").uri(resolve_settings()))


def test_an_internal_table_is_readable_by_another_domain(bank_published: Path) -> None:
    spec = risk_table("branch_copy", "bank/curated/branches", "SELECT * FROM src")

    assert run(risk(bank_published, spec)).success

    assert published("risk/product/branch_copy")["amount"].to_pylist() == [7]


def test_the_owner_reads_its_own_private_table_in_clear(bank_published: Path) -> None:
    assert published("bank/product/ledger_total").to_pylist() == [
        {"account_id": "acc-9", "amount": 99}
    ]


def test_a_compute_function_cannot_publish_to_another_domain(bank_published: Path) -> None:
    target = TableKey.parse("bank/curated/accounts")
    before = published("bank/curated/accounts")
    bank_contract = registry(bank_published).require(target)

    @table(Layer.PRODUCT)
    def hijack() -> pa.Table:
        publish_rows(
            publish_request(target, bank_contract, resolve_settings(), run_id="hijack"),
            pa.table({"account_id": ["evil"], "amount": [1]}),
        )
        return pa.table({"account_id": ["x"], "amount": [1]})

    result = run(risk(bank_published, hijack))

    assert not result.success
    assert "domain 'risk' may write only under" in failures(result)
    assert "bank/curated/accounts" in failures(result)
    assert published("bank/curated/accounts").equals(before)


def test_a_compute_function_cannot_open_another_domains_table_itself(
    bank_published: Path,
) -> None:
    ledger_uri = TableKey.parse("bank/curated/ledger").uri(resolve_settings())

    @table(Layer.PRODUCT)
    def smuggled() -> pa.Table:
        return read_arrow(ledger_uri)

    result = run(risk(bank_published, smuggled))

    assert not result.success
    assert f"domain 'risk' opened {ledger_uri}, another domain's table" in failures(result)
    assert not table_exists(TableKey.parse("risk/product/smuggled").uri(resolve_settings()))
