"""Credentials: whether the botocore chain (env, profile, IMDS role) yields any to sign with."""
from __future__ import annotations


class CredentialsCheck:
    id = "credentials"
    scope = "node"
    title = "AWS credentials to sign with"

    def run(self, ctx, service=None):
        credentials = ctx.credentials()
        # Only the fact and the key id's first four characters (AKIA/ASIA: long-term or session).
        if credentials is None:
            return {"present": False}
        return {"present": True, "kind": "session" if credentials.token else "long-term",
                "access_key_prefix": (credentials.access_key or "")[:4]}
