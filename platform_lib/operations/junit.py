"""Contract test reports as JUnit XML, the format CI systems show as test results."""

from xml.etree import ElementTree

from platform_lib.operations.contract_test import ContractTestReport


def junit_xml(reports: list[ContractTestReport]) -> str:
    """One ``testsuite`` per contract, one ``testcase`` per rule; failures and warnings marked."""
    suites = ElementTree.Element("testsuites", name="mesh test")
    for report in reports:
        failing = {r.rule_id for r in report.failures}
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=report.contract_id,
            tests=str(len(report.result.rules)),
            failures=str(len(failing)),
            file=str(report.source),
        )
        for rule in report.result.rules:
            case = ElementTree.SubElement(
                suite, "testcase", classname=report.contract_id, name=rule.rule_id
            )
            detail = f"{rule.message} (observed {rule.observed}, expected {rule.threshold})"
            if rule.rule_id in failing:
                ElementTree.SubElement(case, "failure", message=rule.message).text = detail
            elif not rule.passed:
                ElementTree.SubElement(case, "system-out").text = f"warning: {detail}"
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True)
