"""The names every part of the simulated AWS agrees on: the account moto answers for, the EKS
cluster the scenarios create, and which third octet each AZ's subnets get. Its own module so
the VPC builder (aws_side.py) and the configuration it applies (aws_config.py) both stand on it."""
from __future__ import annotations

ACCOUNT = "123456789012"  # moto's default account
CLUSTER_NAME = "demo-cluster"
AZ_OCTET = {"a": 1, "b": 2, "c": 3}
