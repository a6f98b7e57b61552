"""IMDS: whether the instance metadata service answered discovery, and how (v2 or v1)."""
from __future__ import annotations


class ImdsCheck:
    id = "imds"
    scope = "node"
    title = "Instance metadata (IMDSv2, then v1)"

    def run(self, ctx, service=None):
        # Discovery already asked IMDS under the same deadline; asking again would double the wait.
        return dict(ctx.facts.imds)
