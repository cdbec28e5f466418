"""Who is who in the sandbox: its two accounts, its Region, and their administrators' keys.

Both the notebook side (``sandbox.client``) and the sandbox's server read these. The keys are
not secrets and open nothing on AWS: the sandbox answers only on this machine's loopback.
"""

from __future__ import annotations

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ACCESS_KEY_ID = "AKIASANDBOXLEARNER01"  # the notebook's identity: the account's administrator
SECRET_ACCESS_KEY = "sandbox-secret-access-key"

SECOND_ACCOUNT_ID = "210987654321"
SECOND_ACCESS_KEY_ID = "AKIASANDBOXPARTNER01"  # the second account's administrator
ADMIN_KEYS = {ACCESS_KEY_ID: ACCOUNT_ID, SECOND_ACCESS_KEY_ID: SECOND_ACCOUNT_ID}
