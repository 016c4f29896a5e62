"""osmo-compiler: validate NVIDIA OSMO workflows and compile them to Argo Workflows."""

__version__ = "0.1.0"
