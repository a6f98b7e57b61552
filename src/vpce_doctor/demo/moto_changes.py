"""What the simulator changes in moto, each with its reason: one filter real EC2 has and moto lacks,
and files moto parses again for every simulated VPC for what no scenario uses. Applied once per
process, before the first moto server starts (SimulatedAws.start)."""
from __future__ import annotations


def teach_interface_type() -> None:
    """moto's DescribeNetworkInterfaces has no `interface-type` filter, real EC2 does (the inventory
    reads the VPC's endpoint ENIs with it): answered from the ENI's own interface_type."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if getattr(NetworkInterface, "_vpce_doctor_interface_type", False):
        return
    original = NetworkInterface.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name == "interface-type":
            return self.interface_type
        return original(self, filter_name, method_name)

    NetworkInterface.get_filter_value = get_filter_value
    NetworkInterface._vpce_doctor_interface_type = True


def spare_repeated_loads() -> None:
    """Two files moto parses again for every simulated VPC, for what no scenario uses; together ~20% of
    a World's start-up CPU, measured with py-spy over 20 Worlds (the test suites build ~400):
    - EC2's public AMI catalogue, read by each new EC2 backend (moto's reset makes one per VPC): no
      scenario launches an instance or lists images, so none is loaded (moto's own switch for it);
    - botocore's endpoint data (~1 MB of JSON), read by the new botocore Session EKS's CreateCluster
      builds to check the role ARN's partition: the partition list is read once and kept."""
    import moto.settings
    from moto.eks import utils as eks_utils

    moto.settings.ec2_load_default_amis = lambda: False
    if getattr(eks_utils, "_vpce_doctor_partitions", None) is None:
        partitions = eks_utils.Session().get_available_partitions()

        class _PartitionsRead(object):
            def get_available_partitions(self):
                return list(partitions)

        eks_utils.Session = _PartitionsRead
        eks_utils._vpce_doctor_partitions = partitions
