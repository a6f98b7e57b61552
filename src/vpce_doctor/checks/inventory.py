"""Inventory: which VPC endpoints this VPC has, their ENIs per AZ and private-DNS switch."""
from __future__ import annotations


class InventoryCheck:
    id = "inventory"
    scope = "node"
    title = "DescribeVpcEndpoints for this VPC"

    def run(self, ctx, service=None):
        return ctx.inventory()
