"""``mesh check`` reports: grouped by domain for people, JSON for tools, JUnit XML for CI."""

import json
from collections import defaultdict
from xml.etree import ElementTree

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from platform_lib.governance.check import CheckReport
from platform_lib.governance.rules import RULES
from platform_lib.mesh.violations import Level


def print_report(report: CheckReport, console: Console) -> None:
    """Violations grouped by the domain that has to act, then a one-line verdict."""
    by_domain = defaultdict(list)
    for violation in report.violations:
        by_domain[violation.domain].append(violation)
    for domain in sorted(by_domain):
        table = Table(title=f"domain {domain}", title_justify="left", show_lines=False)
        for column in ("level", "rule", "subject", "problem", "fix"):
            table.add_column(column, overflow="fold")
        for v in sorted(by_domain[domain], key=lambda v: (v.level != Level.ERROR, v.rule_id)):
            level = (
                f"[dim]exempt[/] ({escape(v.exemption)})"
                if v.exemption
                else "[red]error[/]"
                if v.level is Level.ERROR
                else "[yellow]warning[/]"
            )
            table.add_row(level, *(Text(part) for part in (v.rule_id, v.subject, v.message, v.fix)))
        console.print(table)
    errors = sum(v.counts for v in report.violations)
    warnings = sum(v.level is Level.WARNING and v.exemption is None for v in report.violations)
    scope = (
        f"{report.locations} location(s), {report.tables} table(s), {report.contracts} "
        f"contract(s), {report.consumer_edges} consumer edge(s)"
        + (f", compared with {report.base}" if report.base else "")
    )
    verdict = "[green]passed[/]" if report.passed else "[red]FAILED[/]"
    console.print(f"mesh check {verdict}: {errors} error(s), {warnings} warning(s); {scope}")


def report_json(report: CheckReport) -> str:
    """The report as JSON: the counts, ``passed`` and every violation."""
    document = report.model_dump(mode="json")
    document["passed"] = report.passed
    return json.dumps(document, indent=2)


def report_junit(report: CheckReport) -> str:
    """One testsuite per rule, one failing testcase per violation that counts."""
    suites = ElementTree.Element("testsuites", name="mesh check")
    by_rule = defaultdict(list)
    for violation in report.violations:
        by_rule[violation.rule_id].append(violation)
    for rule, rationale in RULES.items():
        found = by_rule.get(rule, [])
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=rule,
            tests=str(max(len(found), 1)),
            failures=str(sum(v.counts for v in found)),
        )
        if not found:
            ElementTree.SubElement(suite, "testcase", classname=rule, name=rationale)
        for v in found:
            case = ElementTree.SubElement(suite, "testcase", classname=v.domain, name=v.subject)
            if v.counts:
                ElementTree.SubElement(case, "failure", message=v.message).text = f"fix: {v.fix}"
            else:
                ElementTree.SubElement(case, "system-out").text = (
                    f"{v.level.value}: {v.message}"
                    + (f" (exempt: {v.exemption})" if v.exemption else "")
                )
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True)
