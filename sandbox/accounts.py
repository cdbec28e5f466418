"""Who is who in the sandbox: its two accounts, its Region, and their administrators' keys.

Both the notebook side (``sandbox.client``) and the sandbox's server read these. Each server
makes its administrators' keys anew when it starts (:func:`administrator_keys`): a client gets
them from the server it starts or attaches to, so a process that does not know them (another
notebook, another submission being graded) cannot act in this sandbox. They open nothing on
AWS: the sandbox answers only on this machine's loopback.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
SECOND_ACCOUNT_ID = "210987654321"
ACCOUNTS = (ACCOUNT_ID, SECOND_ACCOUNT_ID)


@dataclass(frozen=True)
class Keys:
    """An access key pair, as IAM issues one."""

    access_key_id: str
    secret_access_key: str


def administrator_keys() -> dict[str, Keys]:
    """New keys for each account's administrator (the notebook is the first account's): an
    access key ID shaped as IAM's (``AKIA`` and 16 characters), a 40-character secret."""
    alphabet = string.ascii_uppercase + "234567"
    return {account: Keys("AKIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
                          secrets.token_urlsafe(30)[:40])
            for account in ACCOUNTS}
