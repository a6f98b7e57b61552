"""Preflight: predict, from the AWS configuration alone, what a node in a subnet would find.

Stands on core/ and checks/ (the same catalogue, codes and fixes as the node check):
aws.py reads (read-only, concurrent, paginated, with deadlines) -> gather.py collects the
configuration -> rules.py / policy.py / network.py judge it -> assemble.py builds the Report.
"""
