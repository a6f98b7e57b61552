"""The image pull's pure parts: which references are private ECR images of this region, which image
the node's own references give, an index's platform, the smallest layer, and what is masked. The
exchanges themselves run against real loopback servers (tests/faults/test_pull_faults.py) and the
simulated VPC (tests/integration/test_scenarios.py)."""
from types import SimpleNamespace

import pytest

from vpce_doctor.checks import image_pull
from vpce_doctor.checks.probes import registry_pull

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("image,expected", [
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:v1", ("111122223333", "us-east-1", "team/app", "v1")),
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/app", ("111122223333", "us-east-1", "app", "latest")),
    ("111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:v1@" + DIGEST, ("111122223333", "eu-west-1", "app", DIGEST)),
    ("111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1", ("111122223333", "us-gov-west-1", "app", "1")),
    ("111122223333.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app:1", ("111122223333", "cn-northwest-1", "app", "1")),
    ("public.ecr.aws/eks-distro/kubernetes/pause:3.9", None),
    ("docker.io/library/busybox:1", None),
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/../etc:x", None),
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v1?x=1", None),
    ("", None),
])
def test_private_ecr_references(image, expected):
    ref = registry_pull.parse_reference(image)
    assert (None if ref is None else (ref.account, ref.region, ref.repository, ref.reference)) == expected


def facts(*images):
    refs = [{"image": i, "source": "running container"} for i in images]
    return SimpleNamespace(components=[{"name": "containerd", "images": {"references": refs, "mirrors": {}}}])


CNI = "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.0"
APP = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"


def test_the_node_s_own_image_prefers_the_vpc_cni_and_skips_other_regions_and_registries():
    node = facts(APP, "docker.io/library/nginx:1", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1", CNI)
    chosen, left_out = image_pull.choose(node, (), "us-east-1", "amazonaws.com")
    assert [(r.image, source) for r, source in chosen] == [(CNI, "running container")]
    assert left_out == []


def test_images_named_are_pulled_first_bounded_and_the_others_said():
    wanted = ("public.ecr.aws/x/y:1", APP, "111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1", APP) + (APP,) * 3
    chosen, left_out = image_pull.choose(facts(CNI), wanted, "us-east-1", "amazonaws.com")
    assert [(r.image, source) for r, source in chosen] == [(APP, "--image"), (CNI, "running container")]
    assert any("not a private ECR image" in n for n in left_out)
    assert any("eu-west-1, not this node's region" in n for n in left_out)
    assert any("at most %d" % image_pull.MAX_IMAGES in n for n in left_out)


def test_an_index_gives_this_platform_s_manifest():
    index = {"manifests": [
        {"digest": "sha256:" + "1" * 64, "platform": {"os": "linux", "architecture": "ppc64le"}},
        {"digest": "sha256:" + "2" * 64, "platform": {"os": "windows", "architecture": "amd64"}},
        {"digest": "sha256:" + "3" * 64, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:" + "4" * 64, "platform": {"os": "linux", "architecture": "arm64"}}]}
    assert registry_pull._platform_digest(index, registry_pull._architecture("x86_64")) == "sha256:" + "3" * 64
    assert registry_pull._platform_digest(index, registry_pull._architecture("aarch64")) == "sha256:" + "4" * 64
    assert registry_pull._platform_digest(index, "s390x") is None
    assert registry_pull._platform_digest({"manifests": [{"digest": "../x", "platform": {"os": "linux",
                                                                                        "architecture": "amd64"}}]},
                                          "amd64") is None


def test_the_smallest_layer_and_no_layer():
    layers = {"layers": [{"digest": "sha256:" + "1" * 64, "size": 300}, {"digest": "sha256:" + "2" * 64, "size": 20},
                         {"digest": "bad", "size": 1}, {"digest": "sha256:" + "3" * 64}]}
    assert registry_pull._smallest_layer(layers)["digest"] == "sha256:" + "2" * 64
    assert registry_pull._smallest_layer({"layers": []}) is None
    assert registry_pull._smallest_layer({}) is None


def test_the_token_its_password_and_the_presigned_values_are_masked_longest_first():
    secrets = registry_pull._Secrets(SimpleNamespace(token="SESSIONTOKEN123", secret_key=None, access_key=None))
    secrets.add("QVdTOnBhc3N3b3JkMTIz")  # base64 of AWS:password123
    secrets.add("password123")
    secrets.add("short")  # too short to mask anywhere: it would mangle every message
    text = secrets.mask("Basic QVdTOnBhc3N3b3JkMTIz / password123 / SESSIONTOKEN123 / short")
    assert text == "Basic *** / *** / *** / short"


def test_images_come_from_the_flag_the_environment_or_the_config_file(tmp_path):
    from vpce_doctor.core.settings import resolve_settings

    config = tmp_path / "config.toml"
    config.write_text('images = ["%s"]\n' % APP)
    assert resolve_settings({"config_path": str(config)}, environ={}).images == (APP,)
    assert resolve_settings({"config_path": str(config)}, environ={"VPCE_DOCTOR_IMAGES": "%s %s" % (CNI, APP)}).images \
        == (CNI, APP)
    assert resolve_settings({"config_path": str(config), "images": [CNI]}, environ={}).images == (CNI,)


def test_the_command_line_takes_image_repeatable():
    from vpce_doctor.agent.commands import check_flags
    from vpce_doctor.cli import build_parser

    args = build_parser().parse_args(["check", "--image", APP, "--image", CNI])
    assert check_flags(args)["images"] == [APP, CNI]
