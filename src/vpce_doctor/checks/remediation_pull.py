"""Fixes for what the image pull found at the registry: a repository policy that does not grant a
cross-account pull, a node role without ECR's read actions, an image that is not there. The layer
bucket's and the route's fixes are remediation.py's and remediation_access.py's."""
from __future__ import annotations

import json
from typing import Optional

from ..core.model import Remediation
from .remediation import Where, q

# What a pull needs from ECR (AmazonEC2ContainerRegistryReadOnly grants these and more)
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")


def repository_policy(where: Where, repository: str, registry_account: str, role_arn: Optional[str]) -> Remediation:
    principal = role_arn or "arn:aws:iam::<NODE-ACCOUNT-ID>:role/<NODE-ROLE>"
    statement = {"Sid": "AllowNodePull", "Effect": "Allow", "Principal": {"AWS": principal},
                 "Action": list(PULL_ACTIONS)}
    return Remediation(
        text="Repository %s in account %s does not let this node's role pull (a cross-account pull needs the "
             "repository's policy to allow it). In account %s, add this statement to the repository policy, keeping "
             "the others: %s" % (repository, registry_account, registry_account, json.dumps(statement)),
        commands=(
            "aws ecr get-repository-policy --region %s --registry-id %s --repository-name %s"
            % (q(where.region), q(registry_account), q(repository)),
            "aws ecr set-repository-policy --region %s --registry-id %s --repository-name %s "
            "--policy-text file://repository-policy.json" % (q(where.region), q(registry_account), q(repository)),
        ))


def identity_pull(where: Where, role: Optional[str]) -> Remediation:
    role_name = role or "<NODE-ROLE>"
    return Remediation(
        text="The node role may not read images (%s). Attach AWS's managed AmazonEC2ContainerRegistryReadOnly "
             "policy (or the Pull-only one) to the node role, or grant these actions in its own policy."
             % ", ".join(PULL_ACTIONS),
        commands=(
            "aws iam list-attached-role-policies --role-name %s" % q(role_name),
            "aws iam attach-role-policy --role-name %s --policy-arn "
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly" % q(role_name),
        ))


def image_not_found(where: Where, repository: str, registry_account: str, reference: str, code: Optional[str]) -> Remediation:
    if code == "NAME_UNKNOWN":
        text = "Repository %s does not exist in registry %s (or in this region): check the image name the " \
               "workload uses." % (repository, registry_account)
        commands = ("aws ecr describe-repositories --region %s --registry-id %s --repository-names %s"
                    % (q(where.region), q(registry_account), q(repository)),)
    else:
        text = "Repository %s has no image %s: check the tag or digest the workload uses (a lifecycle policy may " \
               "have expired it)." % (repository, reference)
        ids = "imageDigest=%s" % reference if reference.startswith("sha256:") else "imageTag=%s" % reference
        commands = ("aws ecr describe-images --region %s --registry-id %s --repository-name %s --image-ids %s"
                    % (q(where.region), q(registry_account), q(repository), q(ids)),)
    return Remediation(text=text, commands=commands)


def pull_failed(where: Where, step: str, service_id: str, repository: str, registry_account: str) -> Remediation:
    return Remediation(
        text="The image pull stopped at its %s step (through %s) and nothing else in this report explains it: read "
             "the step's evidence, then check the %s endpoint and what answers for it. A manual pull from the node "
             "reproduces it (crictl pull, or ctr with the ECR credentials)." % (step, service_id, service_id),
        commands=("aws ecr describe-images --region %s --registry-id %s --repository-name %s --max-items 1"
                  % (q(where.region), q(registry_account), q(repository)),))
