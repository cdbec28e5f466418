"""Resource-based policies, found by the resource's ARN in moto's backends.

AWS consults the resource's own policy alongside the caller's: a Lambda function policy
(``AddPermission``), an S3 bucket policy, an SQS queue policy, an SNS topic policy, a REST
API's resource policy, an event bus's policy, and for
``sts:AssumeRole`` the role's trust policy. moto stores all of them and its enforcement reads
none; only S3 reads a bucket policy, for object requests, whoever the caller
(``docs/moto-gaps.md``).
"""

from __future__ import annotations

import json
from typing import Any

from .policy import TRUST_POLICY, Policy


def account_of(arn: str, default: str) -> str:
    """The account that owns the resource: the ARN's fifth field, or the bucket's owner."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return default
    if parts[2] == "s3" and not parts[4]:
        from moto.s3.models import s3_backends

        owner = s3_backends.bucket_accounts.get(parts[5].split("/", 1)[0])
        return owner[1] if owner else default
    return parts[4] or default


def policy_of(arn: str, action: str) -> Policy | None:
    """The resource policy AWS would read for ``action`` on ``arn``, if it has one."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, region, account, rest = parts[2], parts[3], parts[4], parts[5]
    try:
        if service == "lambda" and rest.startswith("function:"):
            return _function_policy(account, region, rest.split(":"))
        if service == "s3":
            return _bucket_policy(rest.split("/", 1)[0])
        if service == "sqs":
            return _queue_policy(account, region, rest)
        if service == "sns":
            return _topic_policy(account, region, arn)
        if service == "execute-api":
            return _api_policy(account, region, rest.split("/", 1)[0])
        if service == "events" and rest.startswith("event-bus/"):
            return _bus_policy(account, region, rest.split("/", 1)[1])
        if service == "iam" and rest.startswith("role/") and action.lower().startswith("sts:"):
            return _trust_policy(account, arn)
    except KeyError:  # the resource does not exist: the service will say so itself
        return None
    return None


def anonymous_policy_of(arn: str, action: str) -> Policy | None:
    """The resource policy that decides an unsigned request: the resource's own; for S3, the
    bucket policy unless Block Public Access restricts public buckets, plus the grants to
    everyone of a public-read ACL (the object's for GetObject, the bucket's for ListBucket)
    unless Block Public Access ignores public ACLs (S3 User Guide, "Blocking public access")."""
    found = policy_of(arn, action)
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "s3":
        return found
    name, _, key = parts[5].partition("/")
    bucket = _bucket(name)
    if bucket is None:
        return found
    block = bucket.public_access_block
    if found is not None and block is not None and block.restrict_public_buckets:
        found = None
    if block is not None and block.ignore_public_acls:
        return found
    owner = bucket.keys.get(key) if key else bucket
    acl = getattr(owner, "acl", None)
    read = {"s3:getobject": bool(key), "s3:listbucket": not key}
    if acl is None or not acl.public_read or not read.get(action.lower()):
        return found
    grant = {"Sid": "public-read ACL", "Effect": "Allow", "Principal": "*", "Action": action,
             "Resource": arn}
    statements = [*(found.statements if found else []), grant]
    label = f"{found.name} and the public-read ACL" if found else f"the public-read ACL of {arn}"
    return Policy({"Version": "2012-10-17", "Statement": statements}, "resource", label,
                  "acl")


def _bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    return s3_backends[owner[1]][owner[0]].buckets.get(name) if owner else None


def _function_policy(account: str, region: str, parts: list[str]) -> Policy | None:
    from moto.awslambda.models import lambda_backends

    name, qualifier = parts[1], (parts[2] if len(parts) > 2 else None)
    try:
        fn = lambda_backends[account][region].get_function(name, qualifier)
    except Exception:  # moto raises its own not-found errors
        return None
    statements = statements_of(fn)
    if not statements:
        return None
    return Policy({"Version": "2012-10-17", "Statement": statements}, "resource",
                  f"the function policy of {name}", "function policy")


def statements_of(fn: Any) -> list[dict[str, Any]]:
    """A function's statements (moto keeps them in ``LambdaFunction.policy.statements``,
    ``awslambda/policy.py``). moto files a permission for an alias or version on the object it
    resolves to, so the unqualified function's are read too: each statement's Resource still
    says which ARN it covers, and a permission for an alias covers only the alias, as on AWS."""
    from moto.awslambda.models import lambda_backends

    found = list(getattr(getattr(fn, "policy", None), "statements", None) or [])
    try:
        latest = lambda_backends[fn.account_id][fn.region].get_function(fn.function_name)
    except Exception:  # moto raises its own not-found errors
        return found
    if latest is not fn:
        found += [s for s in latest.policy.statements if s not in found]
    return found


def _bucket_policy(bucket: str) -> Policy | None:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    found = s3_backends[owner[1]][owner[0]].buckets[bucket].policy
    return Policy(found.decode(), "resource", f"the bucket policy of {bucket}",
                  "bucket policy") if found else None


def _queue_policy(account: str, region: str, name: str) -> Policy | None:
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].queues[name]
    if not queue._policy_json.get("Statement"):
        return None
    return Policy(queue._policy_json, "resource", f"the queue policy of {name}", "queue policy")


def _topic_policy(account: str, region: str, arn: str) -> Policy | None:
    from moto.sns.models import sns_backends

    topic = sns_backends[account][region].topics[arn]
    return Policy(topic._policy_json, "resource",
                  f"the topic policy of {arn.rsplit(':', 1)[1]}", "topic policy")


def _bus_policy(account: str, region: str, name: str) -> Policy | None:
    """An event bus's resource policy (PutPermission), which a sender in another account
    needs (EventBridge User Guide, "Permissions for Amazon EventBridge event buses")."""
    from moto.events.models import events_backends

    found = events_backends[account][region].event_buses[name].policy
    return Policy(found, "resource", f"the policy of event bus {name}",
                  "event bus policy") if found else None


def _api_policy(account: str, region: str, api_id: str) -> Policy | None:
    from moto.apigateway.models import apigateway_backends

    found = apigateway_backends[account][region].apis[api_id].policy
    if not found:
        return None
    document = json.loads(found) if isinstance(found, str) else found
    return Policy(document, "resource", f"the resource policy of API {api_id}", "api policy")


def _trust_policy(account: str, arn: str) -> Policy | None:
    from moto.iam.models import iam_backends

    for role in iam_backends[account]["aws"].roles.values():
        if role.arn == arn:
            document = role.assume_role_policy_document
            if isinstance(document, str):
                from urllib.parse import unquote

                document = json.loads(unquote(document))
            return Policy(document, "resource", f"the trust policy of {role.name}",
                          TRUST_POLICY)
    return None


def trust_of(arn: str) -> Policy:
    """The trust policy of role ``arn``; a role that does not exist trusts nobody."""
    found = policy_of(arn, "sts:AssumeRole")
    return found or Policy({"Version": "2012-10-17", "Statement": []}, "resource",
                           f"the trust policy of {arn} (no such role)", TRUST_POLICY)
