"""Inventory: which VPC endpoints this VPC has, their ENIs per AZ and private-DNS switch,
and the partition's real endpoint service names."""
from __future__ import annotations

from dataclasses import replace


class InventoryCheck:
    id = "inventory"
    scope = "node"
    title = "DescribeVpcEndpoints for this VPC, and the node subnet's route table"

    def run(self, ctx, service=None):
        # The service names do not gate the TLS check, which waits only on ctx.inventory().
        inventory, names, route_table = ctx.gather([ctx.inventory, ctx.real_service_names, ctx.route_table])
        if inventory.available:
            return replace(inventory, service_names=names, route_table=route_table)
        return replace(inventory, route_table=route_table)
