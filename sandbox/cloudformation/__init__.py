"""CloudFormation and AWS SAM in the sandbox: moto's CloudFormation engine, with the SAM
transform (by AWS's own translator), validation before anything is made, each resource's events,
the rollback of a failed stack, and the resource types SAM expands to that moto lacks.

The server applies these through rows of sandbox/seams.py; the notebook deploys a template with
``sandbox.deploy`` (sandbox/deploy.py), which packages its code as ``sam build`` and
``sam package`` do.
"""

from __future__ import annotations

__all__ = ["supported_types"]


def supported_types() -> list[str]:
    """Every resource type the sandbox's CloudFormation can create (the server's view)."""
    from .stacks import supported_types as types

    return types()
