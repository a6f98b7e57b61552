"""packaging/slim_botocore.py: botocore's wheel without the API models the agent never loads."""
import importlib.util
import os
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("slim_botocore", os.path.join(ROOT, "packaging", "slim_botocore.py"))
slim_botocore = importlib.util.module_from_spec(spec)
spec.loader.exec_module(slim_botocore)

FILES = ["botocore/__init__.py", "botocore/auth.py", "botocore/data/endpoints.json", "botocore/data/partitions.json",
         "botocore/data/sts/2011-06-15/service-2.json.gz", "botocore/data/sso-oidc/2019-06-10/service-2.json.gz",
         "botocore/data/ec2/2016-11-15/service-2.json.gz", "botocore/data/s3/2006-03-01/paginators-1.json"]


def test_models_outside_the_credential_chain_are_dropped_and_record_follows(tmp_path):
    wheel = tmp_path / "botocore-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as handle:
        for name in FILES:
            handle.writestr(name, "x")
        handle.writestr("botocore-1.0.0.dist-info/RECORD", "".join("%s,sha256=x,1\n" % n for n in FILES)
                        + "botocore-1.0.0.dist-info/RECORD,,\n")
    assert slim_botocore.slim(str(wheel)) == 2
    with zipfile.ZipFile(wheel) as handle:
        names = set(handle.namelist())
        record = handle.read("botocore-1.0.0.dist-info/RECORD").decode()
    kept = {n for n in FILES if "/ec2/" not in n and "/s3/" not in n}
    assert names == kept | {"botocore-1.0.0.dist-info/RECORD"}
    assert {line.split(",")[0] for line in record.splitlines()} == names
