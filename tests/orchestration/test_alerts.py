"""Alerts routed to owners: real Dagster runs, the domain's alert sensor, a real HTTP receiver."""

import datetime as dt
import socket
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from dagster import DagsterInstance, Definitions, build_sensor_context

from platform_lib import Layer, domain_definitions, table
from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.registry import load_registry
from platform_lib.orchestration.alert_sensors import AlertEvaluation, evaluate_alerts
from platform_lib.orchestration.alerts import (
    AlertKind,
    AlertSettings,
    DeliveryStatus,
    is_placeholder_url,
)
from tests.alert_receiver import Receiver
from tests.conftest import MeshEnv, instance_for, write_contract


def shop_contract(root: Path, name: str, webhook: str, *, threshold: float = 0.5) -> Path:
    body = f"""support:
  - {{channel: shop-alerts, tool: webhook, url: "{webhook}"}}
slaProperties:
  - {{property: freshness, value: 1, unit: h}}
schema:
  - name: {name}
    properties:
      - name: order_id
        logicalType: string
        physicalType: string
        primaryKey: true
        logicalTypeOptions: {{pattern: "^o-[0-9]+$"}}
      - {{name: amount, logicalType: integer, physicalType: int64, required: true}}
"""
    path = write_contract(root, f"shop/curated/{name}", body)
    text = path.read_text().replace("value: 0.5}", f"value: {threshold}}}")
    path.write_text(text)
    return path


@table(Layer.CURATED)
def orders() -> pa.Table:
    """Three of four ids break the pattern: over the threshold, nothing is published."""
    return pa.table({"order_id": ["o-1", "bad-2", "bad-3", "bad-4"], "amount": [1, 2, 3, 4]})


@table(Layer.CURATED)
def items() -> pa.Table:
    """One of four ids breaks the pattern: quarantined, the rest published."""
    return pa.table({"order_id": ["o-1", "o-2", "o-3", "bad-4"], "amount": [1, 2, 3, 4]})


@table(Layer.CURATED)
def refunds() -> pa.Table:
    """Its code fails."""
    raise RuntimeError("the refunds feed is unreachable")


def shop(root: Path, webhook: str) -> Definitions:
    for name in ("orders", "items", "refunds"):
        shop_contract(root, name, webhook)
    return domain_definitions(
        "shop", tables=[orders, items, refunds], contracts=load_registry(root / "contracts")
    )


def run_all(defs: Definitions, instance: DagsterInstance) -> None:
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success  # orders is blocked and refunds raises


def contracts_of(root: Path) -> list[Any]:
    return list(load_registry(root / "contracts").contracts.values())


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


SETTINGS = AlertSettings(ui_url="http://ui.test:3000")


def test_a_failed_run_alerts_each_owner_once_with_rule_counts_samples_and_links(
    mesh_env: MeshEnv, tmp_path: Path, receiver: Receiver
) -> None:
    defs = shop(tmp_path, receiver.url)
    instance = instance_for(mesh_env)
    run_all(defs, instance)
    contracts = contracts_of(tmp_path)

    first = evaluate_alerts(instance, contracts, None, settings=SETTINGS)
    second = evaluate_alerts(instance, contracts, first.cursor, settings=SETTINGS)

    by_table = {body["table"]: body for body in receiver.bodies}
    assert len(receiver.bodies) == 3 and set(by_table) == {
        "shop/curated/orders",
        "shop/curated/items",
        "shop/curated/refunds",
    }
    assert [d.status for d in first.deliveries] == [DeliveryStatus.SENT] * 3
    assert (second.alerts, second.deliveries) == ((), ())

    blocked = by_table["shop/curated/orders"]
    contract_file = tmp_path / "contracts/shop/curated/orders.odcs.yaml"
    assert (blocked["kind"], blocked["severity"], blocked["owner"]) == (
        AlertKind.CHECK_FAILED,
        "error",
        "team:shop",
    )
    assert blocked["rule"] == "quarantine_threshold"
    threshold, pattern = blocked["rules"]
    assert (threshold["observed"], threshold["failed_rows"]) == (0.75, 3)
    assert threshold["contract_line"] == f"{contract_file}:{line_of(contract_file, 'quarantine')}"
    assert pattern["rule"] == "order_id_pattern" and pattern["failed_rows"] == 3
    assert pattern["samples"] == ["order_id=bad-2", "order_id=bad-3", "order_id=bad-4"]
    assert pattern["contract_line"] == f"{contract_file}:{line_of(contract_file, 'pattern')}"
    assert blocked["asset_url"] == "http://ui.test:3000/assets/shop/curated/orders"
    assert blocked["run_url"] == f"http://ui.test:3000/runs/{blocked['run_id']}"
    assert "order_id=bad-2" in blocked["text"]

    quarantined = by_table["shop/curated/items"]
    assert (quarantined["kind"], quarantined["severity"]) == (AlertKind.ROWS_QUARANTINED, "warning")
    assert quarantined["rules"][0]["samples"] == ["order_id=bad-4"]

    failed = by_table["shop/curated/refunds"]
    assert failed["kind"] == AlertKind.RUN_FAILED
    assert "the refunds feed is unreachable" in failed["summary"]


def test_a_stale_table_alerts_once_per_breach(
    mesh_env: MeshEnv, tmp_path: Path, receiver: Receiver
) -> None:
    defs = shop(tmp_path, receiver.url)
    instance = instance_for(mesh_env)
    run_all(defs, instance)
    contracts = contracts_of(tmp_path)
    fresh = evaluate_alerts(instance, contracts, None, settings=SETTINGS)
    receiver.bodies.clear()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)

    stale = evaluate_alerts(instance, contracts, fresh.cursor, now=later, settings=SETTINGS)
    still_stale = evaluate_alerts(
        instance, contracts, stale.cursor, now=later + dt.timedelta(hours=1), settings=SETTINGS
    )

    assert [(a.kind, a.table) for a in stale.alerts] == [
        (AlertKind.FRESHNESS_BREACH, "shop/curated/items")  # the only table ever materialised
    ]
    assert [body["rule"] for body in receiver.bodies] == ["freshness"]
    assert receiver.bodies[0]["rules"][0]["threshold"] == "<= 1h00m"
    assert still_stale.alerts == ()


def test_the_domain_sensor_runs_in_dagster_and_survives_a_dead_receiver(
    mesh_env: MeshEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    monkeypatch.setenv("MESH_ALERT_WEBHOOK", dead)
    defs = shop(tmp_path, "https://hooks.example.com/shop")
    instance = instance_for(mesh_env)
    run_all(defs, instance)
    sensor = defs.get_sensor_def("shop_alerts")

    with build_sensor_context(instance=instance, definitions=defs) as context:
        tick = sensor.evaluate_tick(context)

    assert sensor.default_status.value == "RUNNING"
    assert tick.skip_message == "3 alert(s) raised"
    cursor = AlertEvaluation.model_validate(
        {"alerts": [], "deliveries": [], "cursor": tick.cursor}
    ).cursor
    again = evaluate_alerts(instance, contracts_of(tmp_path), cursor, settings=SETTINGS)
    assert again.alerts == ()


def test_a_placeholder_webhook_is_never_called_and_the_alert_is_logged(
    mesh_env: MeshEnv, tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    defs = shop(tmp_path, "https://hooks.example.com/shop")
    instance = instance_for(mesh_env)
    run_all(defs, instance)

    evaluation = evaluate_alerts(instance, contracts_of(tmp_path), None, settings=SETTINGS)

    assert {d.status for d in evaluation.deliveries} == {DeliveryStatus.SKIPPED}
    assert "shop/curated/orders" in caplog.text and receiver.bodies == []


def test_a_dead_receiver_is_a_failed_delivery_not_an_exception(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    defs = shop(tmp_path, dead)
    instance = instance_for(mesh_env)
    run_all(defs, instance)

    evaluation = evaluate_alerts(instance, contracts_of(tmp_path), None, settings=SETTINGS)

    assert len(evaluation.alerts) == 3
    assert {d.status for d in evaluation.deliveries} == {DeliveryStatus.FAILED}


@pytest.mark.parametrize(
    ("url", "placeholder"),
    [
        ("https://hooks.example.com/x", True),
        ("https://example.org/x", True),
        ("http://alerts.test/x", True),
        ("http://127.0.0.1:8080/x", False),
        ("https://hooks.slack.com/services/x", False),
    ],
)
def test_placeholder_addresses(url: str, placeholder: bool) -> None:
    assert is_placeholder_url(url) is placeholder


def test_a_webhook_channel_without_an_http_url_is_a_contract_finding(tmp_path: Path) -> None:
    path = shop_contract(tmp_path, "orders", "mailto:shop@example.com")

    load = load_contract(path)

    assert load.contract is None
    assert [f.rule_id for f in load.findings] == ["support-webhook"]
    assert load.findings[0].line == line_of(path, "shop-alerts")
