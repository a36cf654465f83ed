"""The incident drill, unattended: from a bad landing file to a repaired table in five commands.

1. The acquirer starts settling in CHF, which the curated contract does not know. The next run
   publishes the valid rows and quarantines the CHF ones (their share stays under the threshold).
2. The payments team's webhook receives an alert naming the owner, the table and the rule.
3. On call reads the quarantine (`mesh quarantine show`), decides the contract is what is wrong,
   and adds CHF to the currencies it accepts.
4. `mesh replay` recomputes the curated table from raw: the CHF rows are published exactly once
   and leave the quarantine; the other rejected rows stay.
5. `mesh status` is green.

Everything runs as a user would, with the `mesh` command in a scratch copy of the project (the
contract is edited there), over a real lake, a real Dagster instance and a real HTTP receiver.
"""

import json
import subprocess
from pathlib import Path

import pyarrow.compute as pc
import pytest

from platform_lib.contracts.registry import load_registry
from platform_lib.conventions import TableKey
from platform_lib.lake.reader import read_arrow
from platform_lib.orchestration.alert_sensors import evaluate_alerts
from tests.alert_receiver import Receiver
from tests.conftest import MeshEnv, copy_project, instance_for, run_command

CURATED = TableKey.parse("payments/curated/transactions")
HEADER = "transaction_id,account_id,amount,currency,merchant,created_at,status\n"
CHF_ROWS = 150
KNOWN_CURRENCIES = "validValues: [EUR, SEK, USD, GBP, NOK, DKK]"


def land_chf_file(landing: Path) -> set[str]:
    """A new landing file whose transactions are all in CHF; returns their ids."""
    ids = [f"tx_9{n:05d}" for n in range(CHF_ROWS)]
    lines = [
        f"{tx},acc_{n % 40:04d},{10 + n % 50}.25,CHF,Migros,2026-11-04T0{n % 10}:15:00Z,settled"
        for n, tx in enumerate(ids)
    ]
    folder = landing / "payments" / "transactions"
    (folder / "transactions_2026-11-04.csv").write_text(HEADER + "\n".join(lines) + "\n")
    return set(ids)


def quarantined_ids(env: MeshEnv, rule: str) -> list[str]:
    quarantine = read_arrow(str(CURATED.quarantine.uri(env.settings)))
    rules = quarantine["violated_rules"].to_pylist()
    ids = quarantine["transaction_id"].to_pylist()
    return [tx for tx, broken in zip(ids, rules, strict=True) if rule in broken]


def test_a_bad_batch_is_alerted_repaired_and_replayed_exactly_once(
    tmp_path: Path, mesh_env: MeshEnv, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    environ = {**mesh_env.environ(), "PYTHONPATH": str(project), "MESH_ALERT_WEBHOOK": receiver.url}
    monkeypatch.setenv("MESH_ALERT_WEBHOOK", receiver.url)

    def mesh(*args: str) -> subprocess.CompletedProcess[str]:
        return run_command(["mesh", *args], environ, cwd=project)

    instance = instance_for(mesh_env)
    registry = load_registry(project / "contracts")
    payments = [registry.require(CURATED)]
    baseline = mesh("materialize", "--all")
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    cursor = evaluate_alerts(instance, payments, None).cursor
    receiver.bodies.clear()

    # 1. The defect arrives and the next run publishes what is valid.
    chf = land_chf_file(mesh_env.landing)
    run = mesh("materialize", "--all")
    assert run.returncode == 0, run.stdout + run.stderr
    curated = read_arrow(str(CURATED.uri(mesh_env.settings)), ["transaction_id", "currency"])
    assert "CHF" not in curated["currency"].to_pylist()
    assert set(quarantined_ids(mesh_env, "currency_known")) >= chf

    # 2. The owner is alerted, with the rule.
    alerted = evaluate_alerts(instance, payments, cursor)
    bodies = [b for b in receiver.bodies if b["table"] == str(CURATED)]
    assert len(bodies) == 1, receiver.bodies
    assert bodies[0]["owner"] == "team:payments"
    assert "currency_known" in {r["rule"] for r in bodies[0]["rules"]}
    assert all(d.status.value == "sent" for d in alerted.deliveries)

    # 3. On call reads the quarantine, then fixes the contract.
    shown = mesh("quarantine", "show", str(CURATED), "--rule", "currency_known", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["by_rule"]["currency_known"] >= CHF_ROWS
    contract = project / "contracts" / "payments" / "curated" / "transactions.odcs.yaml"
    text = contract.read_text()
    assert KNOWN_CURRENCIES in text
    contract.write_text(
        text.replace(KNOWN_CURRENCIES, "validValues: [EUR, SEK, USD, GBP, NOK, DKK, CHF]").replace(
            "version: 1.0.0", "version: 1.1.0", 1
        )
    )

    # 4. Replay: the repaired rows are published exactly once; the rest stays quarantined.
    replayed = mesh("replay", str(CURATED), "--json")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    curated = read_arrow(str(CURATED.uri(mesh_env.settings)), ["transaction_id", "currency"])
    published = curated["transaction_id"].to_pylist()
    assert len(published) == len(set(published)), "a row was published twice"
    assert chf <= set(published)
    assert pc.sum(pc.equal(curated["currency"], "CHF")).as_py() == CHF_ROWS
    assert not set(quarantined_ids(mesh_env, "currency_known")) & chf
    assert quarantined_ids(mesh_env, "currency_known"), "the demo's unknown currencies stay"

    # 5. Green.
    status = mesh("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    health = {t["key"]: t["health"] for t in json.loads(status.stdout)}
    assert health[str(CURATED)] == "green", health
