"""Inventory: which VPC endpoints this VPC has, their ENIs per AZ and private-DNS switch,
and the partition's real endpoint service names."""
from __future__ import annotations

from dataclasses import replace


class InventoryCheck:
    id = "inventory"
    scope = "node"
    title = "DescribeVpcEndpoints for this VPC"

    def run(self, ctx, service=None):
        # The service names do not gate the TLS check, which waits only on ctx.inventory().
        inventory, names = ctx.gather([ctx.inventory, ctx.real_service_names])
        return replace(inventory, service_names=names) if inventory.available else inventory
