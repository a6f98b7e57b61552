"""vpce-doctor: diagnose VPC endpoints and DNS from an EKS node in an isolated subnet."""
from __future__ import annotations

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("vpce-doctor")
except PackageNotFoundError:  # a source checkout without metadata
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
