"""The alerts as code (ops/prometheus/alerts.yml): valid rules, each alert proven to fire
and to stay silent by `promtool test rules`, each with a runbook anchor that exists, and
every metric they read one that the gateway's /metrics exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from graph.observability import Metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts_test.yml"
RUNBOOK = ROOT / "docs" / "RUNBOOK.md"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (.ci/run installs Debian's prometheus)"
)


def _rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alerts() -> list[dict[str, object]]:
    return [rule for rule in _rules() if "alert" in rule]


@needs_promtool
def test_the_rules_are_valid() -> None:
    checked = subprocess.run(  # noqa: S603 - promtool from PATH, on our own files
        [str(PROMTOOL), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_promtool
def test_each_alert_fires_and_stays_silent_as_its_unit_tests_say() -> None:
    tested = subprocess.run(  # noqa: S603 - promtool from PATH, on our own files
        [str(PROMTOOL), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        cwd=RULE_TESTS.parent,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr


def test_every_alert_has_tests_that_fire_it_and_tests_that_do_not() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing: set[str] = set()
    silent: set[str] = set()
    for case in cases:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else silent).add(check["alertname"])
            for expected in check["exp_alerts"]:
                assert expected["exp_labels"]["severity"] in ("page", "ticket")
    names = {str(alert["alert"]) for alert in _alerts()}
    assert firing == names
    # Silence is shown by an explicit empty expectation, or by a series of another job
    # in the same case that the firing expectation leaves out.
    for case in cases:
        jobs = set(
            re.findall(r'job="([^"]+)"', " ".join(s["series"] for s in case["input_series"]))
        )
        for check in case.get("alert_rule_test", []):
            fired = {e["exp_labels"].get("job") for e in check["exp_alerts"]}
            if check["exp_alerts"] and jobs - fired:
                silent.add(check["alertname"])
            if check["exp_alerts"] and len(
                {e["exp_labels"].get("instance") for e in check["exp_alerts"]}
            ) < len(
                set(
                    re.findall(
                        r'instance="([^"]+)"', " ".join(s["series"] for s in case["input_series"])
                    )
                )
            ):
                silent.add(check["alertname"])
    assert silent == names


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_each_alert_links_its_runbook_entry() -> None:
    anchors = _anchors(RUNBOOK.read_text())
    for alert in _alerts():
        annotations = alert["annotations"]
        assert isinstance(annotations, dict)
        url = annotations["runbook_url"]
        path, anchor = url.split("#")
        assert path == "docs/RUNBOOK.md"
        assert anchor in anchors, f"{alert['alert']}: no heading for #{anchor} in the runbook"


def test_every_metric_the_rules_read_is_one_the_gateway_exposes() -> None:
    exposed = set()
    for line in Metrics().render().decode().splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            exposed.add(name)
            suffixes = {
                "counter": ("_total", "_created"),
                "histogram": ("_bucket", "_count", "_sum", "_created"),
            }.get(kind, ())
            exposed.update(name + suffix for suffix in suffixes)
    recorded = {str(rule["record"]) for rule in _rules() if "record" in rule}
    functions = {
        "sum", "by", "rate", "increase", "histogram_quantile", "max_over_time", "and",
        "offset", "up", "on", "le", "job", "call", "code", "outcome", "instance",
    }  # fmt: skip
    for rule in _rules():
        expression = re.sub(
            r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]|\b\d+(\.\d+)?[smhdwy]?\b', "", str(rule["expr"])
        )
        for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expression):
            if name in functions or name in recorded:
                continue
            assert name in exposed, f"{rule.get('alert') or rule.get('record')} reads {name}"
