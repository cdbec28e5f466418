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


class BadArgumentError(SandboxError, ValueError):
    """A sandbox helper was given a value it cannot use (an unknown architecture, account or
    clock speed); the message names the values it accepts. Also a ValueError, as Python's own
    functions raise for a bad value, so ``except ValueError`` still catches it."""


class UnsupportedError(SandboxError):
    """The sandbox cannot do what AWS would do here (it has no network, it does not run that
    kind of resource); the message says so and what to use instead."""


class ServerError(SandboxError):
    """The sandbox's server could not start, or stopped answering."""


class IsolationUnavailableError(SandboxError):
    """Execution environments were asked for an isolation this machine cannot give."""
