"""S3's bucket naming rules, as CreateBucket enforces them.

docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose
buckets): 3 to 63 characters; lowercase letters, numbers, periods and hyphens only; a letter or
number first and last; no two adjacent periods; not an IP address; not starting with ``xn--``,
``sthree-`` or ``amzn-s3-demo-``; not ending with ``-s3alias``, ``--ol-s3``, ``.mrap``,
``--x-s3`` or ``--table-s3``. A name that breaks one is refused with ``InvalidBucketName``, "The
specified bucket is not valid." moto (``moto/s3/models.py`` ``S3Backend.create_bucket``) checks
only the length, so ``ExampleS3Bucket`` was created here and refused on AWS. (boto3 checks
less: it lets capitals and underscores through to the service.)
"""

from __future__ import annotations

import re
from typing import Any

_SHAPE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def valid(name: str) -> bool:
    """Whether ``name`` may name a general purpose bucket."""
    return bool(_SHAPE.match(name)) and ".." not in name \
        and not _IP_ADDRESS.match(name) \
        and not name.startswith(RESERVED_PREFIXES) and not name.endswith(RESERVED_SUFFIXES)


def checks_names(original: Any) -> Any:
    """The registry's factory (sandbox/seams.py): CreateBucket refuses what AWS refuses."""
    def create_bucket(self: Any, bucket_name: str, region_name: str,
                      bucket_namespace: str | None = None) -> Any:
        from moto.s3.exceptions import InvalidBucketName

        # a bucket in the account's regional namespace has its own suffix rule: left to moto
        if bucket_namespace is None and not valid(bucket_name):
            raise InvalidBucketName()
        return original(self, bucket_name, region_name, bucket_namespace)

    return create_bucket
