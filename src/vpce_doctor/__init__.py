"""vpce-doctor: diagnose VPC endpoints and DNS from an EKS node in an isolated subnet."""
from __future__ import annotations

# Written here, not read from the package metadata: importlib.metadata costs ~30 ms of imports on
# every run. tests/unit/test_version.py holds it equal to pyproject.toml's and the installed one.
__version__ = "0.1.0"

__all__ = ["__version__"]
