import pytest

from .textfiles import run_scenario

# healthy; a service broken in one AZ (sts: no 443, logs: one ENI); a node-wide clock; a node-wide proxy
FLEET_SCENARIOS = ("healthy", "sg-drops-443", "clock-skew", "proxy-without-bypass")


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory, dns_backend):
    """name -> (last.json, vpce_doctor.prom) as the tool wrote them for that scenario."""
    workdir = str(tmp_path_factory.mktemp("textfiles"))
    return {name: run_scenario(name, workdir, dns_backend) for name in FLEET_SCENARIOS}
