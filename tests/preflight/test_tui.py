"""The interactive view opens a preflight report as it opens a saved one (Pilot)."""
import pytest

from vpce_doctor.tui.app import VpceDoctorApp
from vpce_doctor.tui.components.detail_screen import DetailScreen
from vpce_doctor.tui.components.summary_bar import SummaryBar

from ..tui.test_app import table_rows


@pytest.mark.integration
async def test_preflight_report_in_the_view(preflight_runs):
    report = preflight_runs["nothing-at-all"][0]
    app = VpceDoctorApp(report=report)
    async with app.run_test(size=(100, 30)) as pilot:
        summary = str(app.query_one(SummaryBar).render())
        subnet = report["target"]["subnets"][0]["id"]
        assert "vpce-doctor preflight" in summary and report["target"]["vpc_id"] in summary and subnet in summary
        assert "no node was probed" in summary and "resolvers:" not in summary
        rows = table_rows(app)
        ec2 = next(r for r in rows if r[0].endswith(" ec2"))
        assert ec2[-1] == "endpoint_missing"
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen) and app.screen.service["id"] == "ec2"
        assert "aws ec2 create-vpc-endpoint" in app.screen.commands()
