"""The simulator's changes to moto keep moto's answers: the role-ARN check EKS's CreateCluster makes
still knows every partition botocore knows, and refuses what it refused; no AMI is loaded (no
scenario launches an instance or lists images)."""
import pytest
from botocore.session import Session

from vpce_doctor.demo import moto_changes


def test_eks_role_check_reads_the_partitions_once_and_judges_as_before():
    moto_changes.spare_repeated_loads()
    moto_changes.spare_repeated_loads()  # a second World in the process changes nothing more
    from moto.eks.exceptions import InvalidParameterException
    from moto.eks.utils import validate_role_arn

    from moto.eks import utils as eks_utils

    assert eks_utils.Session().get_available_partitions() == Session().get_available_partitions()
    for partition in Session().get_available_partitions():
        validate_role_arn("arn:%s:iam::123456789012:role/eks-cluster-role" % partition)
    # refused as before; the moto locked for 3.9 raises its refusal with a message its exception does
    # not take (a TypeError of its own), the one for 3.11+ raises InvalidParameterException
    with pytest.raises((InvalidParameterException, TypeError)):
        validate_role_arn("arn:not-a-partition:iam::123456789012:role/eks-cluster-role")


def test_no_ami_catalogue_is_parsed():
    moto_changes.spare_repeated_loads()
    import moto.settings

    assert moto.settings.ec2_load_default_amis() is False
