"""The sandbox's own errors: one root, one subclass per kind of failure.

Where the sandbox imitates an AWS error it raises AWS's own error through boto3 instead; these are
for what only the sandbox can get wrong (it cannot start, it was asked something it cannot do).
"""

from __future__ import annotations


class SandboxError(Exception):
    """Root of every error the sandbox raises itself."""


class UnsafeEnvironmentError(SandboxError):
    """The sandbox cannot guarantee that no request reaches real AWS, so it will not start."""


class SandboxStoppedError(SandboxError):
    """The sandbox was used after ``stop()``."""


class DeployError(SandboxError):
    """A function could not be deployed (by ``%%lambda`` or a helper)."""


class IsolationUnavailableError(SandboxError):
    """Execution environments were asked for an isolation this machine cannot give."""
