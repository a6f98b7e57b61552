"""The harness itself: a healthy node is ok, so every fault case's outcome is the fault's doing."""
import pytest

pytestmark = pytest.mark.integration


def test_healthy_node_is_ok(node):
    outcome = node.run()
    assert outcome.report["status"] == "ok" and outcome.codes == [] and outcome.returncode == 0, outcome.stdout[:3000]
    api = outcome.service("sts")["probes"]["api"]
    assert api["outcome"] == "success" and api["attempts"] == 1
