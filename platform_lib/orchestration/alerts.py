"""Alerts routed to a table's owners: what went wrong, where, and the webhooks that hear of it.

An :class:`Alert` names the table, its owners, the rules concerned (with counts, a few sample keys
and the contract line of each rule), and links to the Dagster UI. It is posted as JSON to the
contract's webhook channels: the ``support`` entries with ``tool: webhook`` and a ``url``.

Environment:

- ``MESH_ALERT_WEBHOOK``: post every alert to this one URL instead of the contracts' channels
  (drills, staging).
- ``MESH_UI_URL``: the Dagster UI the links point at (default ``http://127.0.0.1:3000``).

Without the override, a channel on a reserved example or test host (``example.com``,
``*.example``, ``*.test``, ``*.invalid``, ...) is never called: the alert is logged and its
delivery reported as ``skipped``. Delivery uses the standard library with a short timeout, is
tried once (the next alert is the next try) and never raises: a failure is logged and returned.
"""

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import cache
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.findings import FieldPath
from platform_lib.contracts.model import TableContract
from platform_lib.contracts.yaml_source import read_yaml

LOGGER = logging.getLogger("mesh.alerts")
DEFAULT_UI_URL = "http://127.0.0.1:3000"
DELIVERY_TIMEOUT_SECONDS = 3.0
RESERVED_HOSTS = frozenset({"example.com", "example.org", "example.net"})
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".local")
"""Example and test names (RFC 2606, 6761): a contract pointing there is a placeholder."""


class AlertKind(StrEnum):
    """Why an alert was raised."""

    CHECK_FAILED = "check_failed"
    """A blocking check failed (the quarantine share over the threshold included)."""
    ROWS_QUARANTINED = "rows_quarantined"
    """Rows broke a row rule and were quarantined; the valid rows were published."""
    RUN_FAILED = "run_failed"
    """The table's run failed without a failing check (its code raised, a read failed...)."""
    FRESHNESS_BREACH = "freshness_breach"
    """The newest materialisation is older than the contract's freshness SLA."""


class AlertRule(BaseModel):
    """One rule (or SLA) an alert concerns, with what was measured."""

    model_config = ConfigDict(frozen=True)

    rule: str
    message: str = ""
    observed: float | None = None
    threshold: str = ""
    failed_rows: int | None = None
    samples: tuple[str, ...] = ()
    """A few keys of failing rows, e.g. ``transaction_id=tx_000042``."""
    contract_line: str = ""
    """``<contract file>:<line>`` of the rule in the contract."""


class Alert(BaseModel):
    """What a table's owners receive: the JSON body posted to their webhooks."""

    model_config = ConfigDict(frozen=True)

    kind: AlertKind
    severity: str
    """``error`` (nothing new was published, or the SLA is broken) or ``warning``."""
    table: str
    """``domain/layer/table``."""
    domain: str
    owner: str
    """The owning team, ``team:<name>``."""
    owners: tuple[str, ...]
    rule: str
    """The first rule concerned (every one is in ``rules``)."""
    rules: tuple[AlertRule, ...]
    run_id: str | None = None
    summary: str
    asset_url: str
    run_url: str | None = None
    contract: str
    """The contract file, as ``<path>:<line>`` of the first rule."""
    text: str
    """The whole alert as one readable message (chat webhooks show ``text``)."""


class DeliveryStatus(StrEnum):
    """How one post of an alert went."""

    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not posted: no webhook channel, or a placeholder address (logged instead)."""


class Delivery(BaseModel):
    """The outcome of posting one alert to one webhook (or of not posting it)."""

    model_config = ConfigDict(frozen=True)

    table: str
    rule: str
    url: str | None
    status: DeliveryStatus
    detail: str = ""


class AlertSettings(BaseModel):
    """Where alerts go and what they link to."""

    model_config = ConfigDict(frozen=True)

    ui_url: str = DEFAULT_UI_URL
    webhook_override: str | None = None


def alert_settings(environ: Mapping[str, str] | None = None) -> AlertSettings:
    """Alert settings from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    return AlertSettings(
        ui_url=(env.get("MESH_UI_URL") or DEFAULT_UI_URL).rstrip("/"),
        webhook_override=env.get("MESH_ALERT_WEBHOOK") or None,
    )


def build_alert(
    kind: AlertKind,
    contract: TableContract,
    rules: Sequence[AlertRule],
    *,
    severity: str,
    summary: str,
    settings: AlertSettings,
    run_id: str | None = None,
) -> Alert:
    """The alert about ``contract``'s table, with its links and readable text."""
    key = contract.key
    owner = next((o for o in contract.owners if o.startswith("team:")), "")
    asset_url = f"{settings.ui_url}/assets/{key.domain}/{key.layer.value}/{key.table}"
    run_url = f"{settings.ui_url}/runs/{run_id}" if run_id else None
    first = rules[0] if rules else AlertRule(rule=kind.value)
    lines = [f"[{severity}] {key}: {summary}", f"owner: {owner or 'unknown'}"]
    for rule in rules:
        counts = f", {rule.failed_rows} row(s)" if rule.failed_rows is not None else ""
        samples = f", e.g. {', '.join(rule.samples)}" if rule.samples else ""
        lines.append(f"- {rule.rule}: {rule.message}{counts}{samples} ({rule.contract_line})")
    lines.append(f"asset: {asset_url}")
    if run_url:
        lines.append(f"run: {run_url}")
    return Alert(
        kind=kind,
        severity=severity,
        table=str(key),
        domain=key.domain,
        owner=owner,
        owners=contract.owners,
        rule=first.rule,
        rules=tuple(rules),
        run_id=run_id,
        summary=summary,
        asset_url=asset_url,
        run_url=run_url,
        contract=first.contract_line or str(contract.source),
        text="\n".join(lines),
    )


def contract_line(contract: TableContract, field: FieldPath) -> str:
    """``<contract file>:<line>`` of ``field`` (or of its nearest ancestor with a line)."""
    positions = _positions(contract.source)
    for end in range(len(field), -1, -1):
        found = positions.get(field[:end])
        if found is not None:
            return f"{contract.source}:{found}"
    return f"{contract.source}:1"


def custom_property_field(contract: TableContract, name: str) -> FieldPath:
    """The field of the contract's ``customProperties`` entry ``name`` (``()`` when absent)."""
    document = read_yaml(contract.source).data or {}
    for index, entry in enumerate(document.get("customProperties") or []):
        if isinstance(entry, dict) and entry.get("property") == name:
            return ("customProperties", index, "value")
    return ()


@cache
def _positions_of(source: Path, mtime_ns: int) -> dict[FieldPath, int]:
    del mtime_ns  # part of the cache key only
    return {path: position.line for path, position in read_yaml(source).positions.items()}


def _positions(source: Path) -> dict[FieldPath, int]:
    try:
        return _positions_of(source, source.stat().st_mtime_ns)
    except OSError:
        return {}


def deliver(alert: Alert, contract: TableContract, settings: AlertSettings) -> tuple[Delivery, ...]:
    """Post ``alert`` to the override webhook, else to the contract's webhook channels.

    Never raises: every outcome, a failed post included, is logged and returned.
    """
    urls = [settings.webhook_override] if settings.webhook_override else contract.alert_webhooks
    if not urls:
        LOGGER.warning("alert (no webhook channel in %s): %s", contract.source, alert.text)
        return (_delivery(alert, None, DeliveryStatus.SKIPPED, "no webhook channel"),)
    deliveries = []
    for url in urls:
        if not settings.webhook_override and is_placeholder_url(url):
            LOGGER.warning("alert (placeholder webhook %s not called): %s", url, alert.text)
            deliveries.append(
                _delivery(alert, url, DeliveryStatus.SKIPPED, "placeholder address, not called")
            )
            continue
        deliveries.append(post_json(alert, url))
    return tuple(deliveries)


def post_json(alert: Alert, url: str) -> Delivery:
    """POST ``alert`` as JSON to ``url`` once, with a short timeout; never raises."""
    body = json.dumps(alert.model_dump(mode="json")).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
            status = response.status
    except (urllib.error.URLError, HTTPException, OSError, ValueError) as error:
        LOGGER.error("alert not delivered to %s (%s): %s", url, error, alert.text)
        return _delivery(alert, url, DeliveryStatus.FAILED, str(error))
    LOGGER.info("alert delivered to %s (HTTP %s): %s", url, status, alert.summary)
    return _delivery(alert, url, DeliveryStatus.SENT, f"HTTP {status}")


def is_placeholder_url(url: str) -> bool:
    """Whether ``url``'s host is a reserved example or test name, never to be called."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return (
        not host
        or host in RESERVED_HOSTS
        or any(host.endswith(f".{name}") for name in RESERVED_HOSTS)
        or host.endswith(RESERVED_SUFFIXES)
    )


def _delivery(alert: Alert, url: str | None, status: DeliveryStatus, detail: str) -> Delivery:
    return Delivery(table=alert.table, rule=alert.rule, url=url, status=status, detail=detail)


__all__ = [
    "Alert",
    "AlertKind",
    "AlertRule",
    "AlertSettings",
    "Delivery",
    "DeliveryStatus",
    "alert_settings",
    "build_alert",
    "contract_line",
    "custom_property_field",
    "deliver",
    "is_placeholder_url",
    "post_json",
]
