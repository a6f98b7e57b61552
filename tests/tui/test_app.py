"""The TUI with Pilot: navigation, detail, filter, export, re-run, view, and SVG snapshots."""
import json
import time
from pathlib import Path

import pytest

from vpce_doctor.core.settings import SettingsError
from vpce_doctor.tui.app import VpceDoctorApp
from vpce_doctor.tui.components.detail_screen import DetailScreen
from vpce_doctor.tui.components.services_table import ServicesTable

FIXTURES = Path(__file__).parent / "fixtures"


def saved(name="private-dns-off"):
    return json.loads((FIXTURES / ("report-%s.json" % name)).read_text())


def table_rows(app):
    table = app.query_one(ServicesTable)
    return [[str(c) for c in table.get_row(key)] for key in table.rows]


def test_fixtures_are_valid_reports(report_validator):
    for path in FIXTURES.glob("report-*.json"):
        report_validator(json.loads(path.read_text()))


async def test_view_navigation_detail_and_back():
    app = VpceDoctorApp(report=saved())
    async with app.run_test(size=(80, 24)) as pilot:
        rows = table_rows(app)
        assert [r[0] for r in rows][:3] == ["✔ ec2", "✖ ecr.api", "✖ ecr.dkr"]
        assert rows[1][1:] == ["pub", "pub", "2/3", "t/o", "private_dns_disabled"]
        await pilot.press("down", "enter")
        assert isinstance(app.screen, DetailScreen) and app.screen.service["id"] == "ecr.api"
        assert "--private-dns-enabled" in app.screen.commands()
        await pilot.press("c")  # OSC 52 copy: must not fail without a real terminal
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_a_refresh_while_closing_is_quiet():
    """The 0.25 s refresh timer can fire once the widgets are gone (the app closing on a loaded
    machine): it draws nothing and raises nothing."""
    from vpce_doctor.tui.components.summary_bar import SummaryBar

    app = VpceDoctorApp(report=saved())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.query_one(SummaryBar).remove()
        await pilot.pause()
        app.refresh_view()
        await pilot.pause(0.3)  # a timer tick too
    assert app.return_code in (None, 0)


async def test_filter_shows_only_problems():
    app = VpceDoctorApp(report=saved())
    async with app.run_test(size=(120, 40)) as pilot:
        assert len(table_rows(app)) == 12
        await pilot.press("f")
        assert [r[1] for r in table_rows(app)] == ["ecr.api", "ecr.dkr"]
        await pilot.press("f")
        assert len(table_rows(app)) == 12


async def test_export_writes_the_report(tmp_path):
    report = saved()
    app = VpceDoctorApp(report=report, export_to=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
    [written] = list(tmp_path.iterdir())
    assert written.name.startswith("vpce-doctor-i-0123456789abcdef0-") and json.loads(written.read_text()) == report


async def test_node_level_findings_have_their_place():
    app = VpceDoctorApp(report=saved("imds-down"))
    async with app.run_test(size=(80, 24)):
        node_text = str(app.query_one("#node").render())
        assert "imds_unreachable" in node_text and "no_credentials" in node_text


async def test_view_of_a_newer_schema_shows_a_notice_and_ignores_unknown_fields():
    report = saved()
    report["schema_version"] = 2
    report["something_new"] = {"x": 1}
    report["services"][0]["probes"]["quic"] = []
    app = VpceDoctorApp(report=report)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "schema version 2" in str(app.query_one("#summary").render())
        await pilot.press("r")  # re-run in view mode explains itself instead of crashing
        assert len(table_rows(app)) == 12


class FakeReport:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


async def test_live_rerun_and_a_failed_run():
    calls = []

    def run_check(observer, on_facts):
        calls.append(time.monotonic())
        return FakeReport(saved())

    app = VpceDoctorApp(run_check=run_check)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.state.report["status"] == "critical" and len(calls) == 1
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(calls) == 2 and len(table_rows(app)) == 12

    def broken(observer, on_facts):
        raise SettingsError("no region known: pass --region")

    app = VpceDoctorApp(run_check=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "run failed: no region known" in str(app.query_one("#summary").render())


@pytest.mark.integration
async def test_live_against_the_simulated_vpc_shows_progress(dns_backend):
    """Pending cells while blackholed probes wait; the verdict once they end."""
    from vpce_doctor.agent.runner import run
    from vpce_doctor.demo.scenarios import SCENARIOS
    from vpce_doctor.demo.world import World

    with World(SCENARIOS["nothing-at-all"], dns_backend=dns_backend) as world:
        settings = world.settings(timeout=1.0)
        app = VpceDoctorApp(run_check=lambda observer, on_facts: run(
            settings, observer=observer, on_facts=on_facts, credentials_provider=world.credentials_provider(settings)))
        async with app.run_test(size=(120, 40)) as pilot:
            seen_pending = False
            for _ in range(60):
                await pilot.pause(0.1)
                rows = table_rows(app)
                seen_pending = seen_pending or any("…" in cell for row in rows for cell in row)
                if app.state.report is not None:
                    break
            await pilot.pause(0.3)
            assert seen_pending
            assert app.state.report["status"] == "critical"
            assert all(row[-1] == "endpoint_missing" for row in table_rows(app))


def test_snapshot_80x24(snap_compare):
    assert snap_compare(VpceDoctorApp(report=saved()), terminal_size=(80, 24))


def test_snapshot_120x40(snap_compare):
    assert snap_compare(VpceDoctorApp(report=saved()), terminal_size=(120, 40))


def test_snapshot_detail_80x24(snap_compare):
    assert snap_compare(VpceDoctorApp(report=saved()), terminal_size=(80, 24), press=["down", "enter"])


def test_snapshot_node_findings_80x24(snap_compare):
    assert snap_compare(VpceDoctorApp(report=saved("imds-down")), terminal_size=(80, 24))


def test_detail_names_the_zone_behind_a_negative_answer():
    from vpce_doctor.tui.components.detail_screen import describe

    service = {"id": "s3", "status": "critical", "hostname": "s3.us-east-1.amazonaws.com", "findings": [],
               "probes": {"dns": [{"resolver_role": "vpc", "rdtype": "A", "server": "169.254.169.253:53",
                                   "hostname": "s3.us-east-1.amazonaws.com", "status": "nxdomain", "addresses": [],
                                   "soa": {"zone": "us-east-1.amazonaws.com", "mname": "ns-1536.awsdns-00.co.uk",
                                           "rname": "awsdns-hostmaster.amazon.com"}}]}}
    assert "NXDOMAIN (zone us-east-1.amazonaws.com)" in describe(service, []).plain
