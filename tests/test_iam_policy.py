"""IAM's policy evaluation logic, case by case from AWS's documentation ("Policy evaluation
logic", "Cross-account policy evaluation logic", "Permissions boundaries", "Condition
operators", "Variables and tags"), and the access denied messages AWS writes."""

from __future__ import annotations

import pytest

from sandbox.iam.policy import Decision, Policy, Request, evaluate, message

A, B = "123456789012", "210987654321"
SESSION = f"arn:aws:sts::{A}:assumed-role/book-writer/save-book"
ROLE = f"arn:aws:iam::{A}:role/book-writer"
USER = f"arn:aws:iam::{A}:user/mary"
OTHER_ROLE = f"arn:aws:iam::{B}:role/partner"
OTHER_SESSION = f"arn:aws:sts::{B}:assumed-role/partner/s"
TABLE = f"arn:aws:dynamodb:us-east-1:{A}:table/books"
BUCKET = "arn:aws:s3:::photos"
FUNCTION = f"arn:aws:lambda:us-east-1:{A}:function:resize"
QUEUE = f"arn:aws:sqs:us-east-1:{A}:orders"
TOPIC = f"arn:aws:sns:us-east-1:{A}:uploads"


def allow(action="*", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="*", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def cond(operator, key, value):
    return {"Condition": {operator: {key: value}}}


def aws(*principals):
    return {"Principal": {"AWS": list(principals) if len(principals) > 1 else principals[0]}}


def service(name):
    return {"Principal": {"Service": name}}


# Each case: id, identity statements, keyword arguments of evaluate() beyond identity
# (resource/boundary/session as statement lists), the request's fields, expected decision and
# the clause ("identity", "resource", "boundary", "session", "" when allowed).
CASES = [
    # -- identity-based policies alone
    ("allow-exact", [allow("dynamodb:PutItem", TABLE)], {}, {}, "allowed", ""),
    ("no-policy-implicit", [], {}, {}, "implicitDeny", "identity"),
    ("other-action", [allow("dynamodb:GetItem", TABLE)], {}, {}, "implicitDeny", "identity"),
    ("other-resource", [allow("dynamodb:PutItem", TABLE + "2")], {}, {}, "implicitDeny",
     "identity"),
    ("deny-beats-allow", [allow(), deny("dynamodb:PutItem")], {}, {}, "explicitDeny",
     "identity"),
    ("deny-alone", [deny("dynamodb:*")], {}, {}, "explicitDeny", "identity"),
    ("deny-other-action", [allow(), deny("dynamodb:DeleteItem")], {}, {}, "allowed", ""),
    ("action-wildcard", [allow("dynamodb:*", TABLE)], {}, {}, "allowed", ""),
    ("action-prefix-wildcard", [allow("dynamodb:Put*", TABLE)], {}, {}, "allowed", ""),
    ("action-question-mark", [allow("dynamodb:PutIte?", TABLE)], {}, {}, "allowed", ""),
    ("action-case-insensitive", [allow("DynamoDB:putitem", TABLE)], {}, {}, "allowed", ""),
    ("action-list", [allow(["s3:GetObject", "dynamodb:PutItem"], TABLE)], {}, {}, "allowed", ""),
    ("resource-wildcard", [allow("dynamodb:PutItem", f"arn:aws:dynamodb:*:{A}:table/*")], {},
     {}, "allowed", ""),
    ("resource-case-sensitive", [allow("dynamodb:PutItem", TABLE.replace("books", "Books"))],
     {}, {}, "implicitDeny", "identity"),
    ("resource-question-mark", [allow("dynamodb:PutItem", TABLE[:-1] + "?")], {}, {},
     "allowed", ""),
    ("resource-wrong-account", [allow("dynamodb:PutItem", TABLE.replace(A, B))], {}, {},
     "implicitDeny", "identity"),
    ("resource-star-request-needs-star", [allow("s3:ListAllMyBuckets", "arn:aws:s3:::*")], {},
     {"action": "s3:ListAllMyBuckets", "resource": "*"}, "implicitDeny", "identity"),
    ("resource-star-request", [allow("s3:ListAllMyBuckets", "*")], {},
     {"action": "s3:ListAllMyBuckets", "resource": "*"}, "allowed", ""),
    ("notaction-allow-covers-others", [{"Effect": "Allow", "NotAction": "iam:*",
                                        "Resource": "*"}], {}, {}, "allowed", ""),
    ("notaction-allow-excludes", [{"Effect": "Allow", "NotAction": "dynamodb:*",
                                   "Resource": "*"}], {}, {}, "implicitDeny", "identity"),
    ("notaction-deny", [allow(), {"Effect": "Deny", "NotAction": "dynamodb:GetItem",
                                  "Resource": "*"}], {}, {}, "explicitDeny", "identity"),
    ("notaction-deny-spares-listed", [allow(), {"Effect": "Deny", "NotAction": "dynamodb:Put*",
                                                "Resource": "*"}], {}, {}, "allowed", ""),
    ("notresource-allow", [{"Effect": "Allow", "Action": "dynamodb:*",
                            "NotResource": TABLE + "-admin"}], {}, {}, "allowed", ""),
    ("notresource-allow-excludes", [{"Effect": "Allow", "Action": "dynamodb:*",
                                     "NotResource": TABLE}], {}, {}, "implicitDeny", "identity"),
    ("notresource-deny", [allow(), {"Effect": "Deny", "Action": "*",
                                    "NotResource": "arn:aws:s3:::*"}], {}, {},
     "explicitDeny", "identity"),
    ("two-policies-one-allows", [allow("s3:*"), allow("dynamodb:PutItem")], {}, {},
     "allowed", ""),
    # -- permissions boundaries
    ("boundary-allows", [allow()], {"boundary": [allow("dynamodb:*")]}, {}, "allowed", ""),
    ("boundary-does-not-allow", [allow()], {"boundary": [allow("s3:*")]}, {},
     "implicitDeny", "boundary"),
    ("boundary-alone-grants-nothing", [], {"boundary": [allow()]}, {}, "implicitDeny",
     "identity"),
    ("boundary-deny", [allow()], {"boundary": [allow(), deny("dynamodb:PutItem")]}, {},
     "explicitDeny", "boundary"),
    # -- session policies
    ("session-allows", [allow()], {"session": [allow("dynamodb:PutItem")]}, {}, "allowed", ""),
    ("session-does-not-allow", [allow()], {"session": [allow("s3:*")]}, {}, "implicitDeny",
     "session"),
    ("session-alone-grants-nothing", [], {"session": [allow()]}, {}, "implicitDeny",
     "identity"),
    ("session-deny", [allow()], {"session": [deny()]}, {}, "explicitDeny", "session"),
    # -- resource-based policies, same account
    ("resource-policy-alone-names-session", [],
     {"resource": [allow("dynamodb:PutItem", TABLE, **aws(SESSION))]}, {}, "allowed", ""),
    ("resource-policy-names-user", [], {"resource": [allow("s3:GetObject", BUCKET + "/*",
                                                           **aws(USER))]},
     {"principal": USER, "action": "s3:GetObject", "resource": BUCKET + "/a.jpg", "role": None},
     "allowed", ""),
    ("resource-policy-names-role", [],
     {"resource": [allow("dynamodb:PutItem", TABLE, **aws(ROLE))]}, {}, "allowed", ""),
    ("resource-policy-names-other-user", [],
     {"resource": [allow("dynamodb:PutItem", TABLE, **aws(f"arn:aws:iam::{A}:user/bob"))]},
     {}, "implicitDeny", "identity"),
    ("resource-policy-names-account-delegates", [],
     {"resource": [allow("dynamodb:PutItem", TABLE, **aws(A))]}, {}, "implicitDeny",
     "identity"),
    ("resource-policy-deny-wins", [allow()],
     {"resource": [deny("dynamodb:PutItem", TABLE, Principal="*")]}, {}, "explicitDeny",
     "resource"),
    ("resource-policy-star-principal", [], {"resource": [allow("dynamodb:*", TABLE,
                                                               Principal="*")]},
     {}, "allowed", ""),
    ("boundary-limits-role-arn-grant", [], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(ROLE))],
        "boundary": [allow("s3:*")]}, {}, "implicitDeny", "boundary"),
    ("boundary-does-not-limit-session-grant", [], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(SESSION))],
        "boundary": [allow("s3:*")]}, {}, "allowed", ""),
    ("boundary-does-not-limit-user-grant", [], {
        "resource": [allow("s3:GetObject", BUCKET + "/*", **aws(USER))],
        "boundary": [allow("dynamodb:*")]},
     {"principal": USER, "action": "s3:GetObject", "resource": BUCKET + "/a", "role": None},
     "allowed", ""),
    ("boundary-deny-limits-even-session-grant", [], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(SESSION))],
        "boundary": [allow(), deny("dynamodb:*")]}, {}, "explicitDeny", "boundary"),
    ("session-policy-limits-role-arn-grant", [], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(ROLE))],
        "session": [allow("s3:*")]}, {}, "implicitDeny", "session"),
    ("session-policy-does-not-limit-session-grant", [], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(SESSION))],
        "session": [allow("s3:*")]}, {}, "allowed", ""),
    ("notprincipal-deny-others", [allow()], {"resource": [
        {"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE, SESSION]}, "Action": "*",
         "Resource": "*"}]}, {}, "allowed", ""),
    ("notprincipal-deny-applies", [allow()], {"resource": [
        {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "*", "Resource": "*"}]},
     {}, "explicitDeny", "resource"),
    # -- cross account: both sides must allow
    ("cross-account-both", [allow("dynamodb:PutItem", TABLE)], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(B))]},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A}, "allowed", ""),
    ("cross-account-root-form", [allow()], {
        "resource": [allow("dynamodb:*", TABLE, **aws(f"arn:aws:iam::{B}:root"))]},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A}, "allowed", ""),
    ("cross-account-resource-only", [], {
        "resource": [allow("dynamodb:PutItem", TABLE, **aws(OTHER_ROLE))]},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A},
     "implicitDeny", "identity"),
    ("cross-account-identity-only", [allow()], {},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A},
     "implicitDeny", "resource"),
    ("cross-account-bare-account-id", [allow()], {  # what moto's AddPermission stores
        "resource": [allow("dynamodb:*", TABLE, Principal=B)]},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A}, "allowed", ""),
    ("cross-account-other-account-named", [allow()], {
        "resource": [allow("dynamodb:*", TABLE, **aws("999999999999"))]},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A},
     "implicitDeny", "resource"),
    ("cross-account-boundary", [allow()], {
        "resource": [allow("dynamodb:*", TABLE, **aws(OTHER_ROLE))],
        "boundary": [allow("s3:*")]},
     {"principal": OTHER_SESSION, "role": OTHER_ROLE, "resource_account": A},
     "implicitDeny", "boundary"),
    # -- service principals: the resource policy alone, with what AddPermission writes
    ("service-add-permission", [], {"resource": [allow(
        "lambda:InvokeFunction", FUNCTION, **service("s3.amazonaws.com"),
        Condition={"ArnLike": {"AWS:SourceArn": BUCKET},
                   "StringEquals": {"AWS:SourceAccount": A}})]},
     {"principal": "s3.amazonaws.com", "action": "lambda:InvokeFunction",
      "resource": FUNCTION, "context": {"aws:SourceArn": BUCKET, "aws:SourceAccount": A}},
     "allowed", ""),
    ("service-wrong-source-arn", [], {"resource": [allow(
        "lambda:InvokeFunction", FUNCTION, **service("s3.amazonaws.com"),
        **cond("ArnLike", "AWS:SourceArn", BUCKET))]},
     {"principal": "s3.amazonaws.com", "action": "lambda:InvokeFunction",
      "resource": FUNCTION, "context": {"aws:SourceArn": "arn:aws:s3:::other"}},
     "implicitDeny", "resource"),
    ("service-wrong-source-account", [], {"resource": [allow(
        "lambda:InvokeFunction", FUNCTION, **service("s3.amazonaws.com"),
        **cond("StringEquals", "AWS:SourceAccount", A))]},
     {"principal": "s3.amazonaws.com", "action": "lambda:InvokeFunction",
      "resource": FUNCTION, "context": {"aws:SourceAccount": B}}, "implicitDeny", "resource"),
    ("service-other-service", [], {"resource": [allow(
        "sqs:SendMessage", QUEUE, **service("sns.amazonaws.com"))]},
     {"principal": "events.amazonaws.com", "action": "sqs:SendMessage", "resource": QUEUE},
     "implicitDeny", "resource"),
    ("service-sns-to-sqs", [], {"resource": [allow(
        "sqs:SendMessage", QUEUE, **service("sns.amazonaws.com"),
        **cond("ArnEquals", "aws:SourceArn", TOPIC))]},
     {"principal": "sns.amazonaws.com", "action": "sqs:SendMessage", "resource": QUEUE,
      "context": {"aws:SourceArn": TOPIC}}, "allowed", ""),
    ("service-ignores-identity", [allow()], {},
     {"principal": "sns.amazonaws.com", "action": "sqs:SendMessage", "resource": QUEUE},
     "implicitDeny", "resource"),
    # -- condition operators
    ("string-equals", [allow(**cond("StringEquals", "aws:RequestedRegion", "us-east-1"))], {},
     {}, "allowed", ""),
    ("string-equals-is-case-sensitive",
     [allow(**cond("StringEquals", "aws:RequestedRegion", "US-EAST-1"))], {}, {},
     "implicitDeny", "identity"),
    ("string-equals-ignore-case",
     [allow(**cond("StringEqualsIgnoreCase", "aws:RequestedRegion", "US-EAST-1"))], {}, {},
     "allowed", ""),
    ("condition-key-case-insensitive",
     [allow(**cond("StringEquals", "AWS:REQUESTEDREGION", "us-east-1"))], {}, {},
     "allowed", ""),
    ("string-not-equals", [allow(**cond("StringNotEquals", "aws:RequestedRegion",
                                        ["eu-west-1", "us-west-2"]))], {}, {}, "allowed", ""),
    ("string-like", [allow(**cond("StringLike", "aws:userid", "AROA*:save-*"))], {},
     {}, "allowed", ""),
    ("string-not-like", [allow(**cond("StringNotLike", "aws:userid", "AROA*"))], {}, {},
     "implicitDeny", "identity"),
    ("multiple-values-are-or", [allow(**cond("StringEquals", "aws:RequestedRegion",
                                             ["eu-west-1", "us-east-1"]))], {}, {},
     "allowed", ""),
    ("multiple-keys-are-and", [allow(Condition={"StringEquals": {
        "aws:RequestedRegion": "us-east-1", "aws:PrincipalAccount": B}})], {}, {},
     "implicitDeny", "identity"),
    ("multiple-operators-are-and", [allow(Condition={
        "StringEquals": {"aws:RequestedRegion": "us-east-1"},
        "Bool": {"aws:SecureTransport": "true"}})], {}, {}, "allowed", ""),
    ("absent-key-fails", [allow(**cond("StringEquals", "aws:SourceVpc", "vpc-1"))], {}, {},
     "implicitDeny", "identity"),
    ("absent-key-negated-holds", [allow(**cond("StringNotEquals", "aws:SourceVpc", "vpc-1"))],
     {}, {}, "allowed", ""),
    ("if-exists-absent", [allow(**cond("StringEqualsIfExists", "aws:SourceVpc", "vpc-1"))], {},
     {}, "allowed", ""),
    ("if-exists-present-mismatch",
     [allow(**cond("StringEqualsIfExists", "aws:RequestedRegion", "eu-west-1"))], {}, {},
     "implicitDeny", "identity"),
    ("numeric-less-than", [allow(**cond("NumericLessThan", "s3:max-keys", "10"))], {},
     {"context": {"s3:max-keys": "5"}}, "allowed", ""),
    ("numeric-greater-than-fails", [allow(**cond("NumericGreaterThan", "s3:max-keys", "10"))],
     {}, {"context": {"s3:max-keys": "5"}}, "implicitDeny", "identity"),
    ("numeric-equals", [allow(**cond("NumericEquals", "s3:max-keys", "5"))], {},
     {"context": {"s3:max-keys": "5.0"}}, "allowed", ""),
    ("numeric-not-equals", [allow(**cond("NumericNotEquals", "s3:max-keys", "5"))], {},
     {"context": {"s3:max-keys": "5"}}, "implicitDeny", "identity"),
    ("numeric-less-than-equals", [allow(**cond("NumericLessThanEquals", "s3:max-keys", 5))],
     {}, {"context": {"s3:max-keys": "5"}}, "allowed", ""),
    ("date-greater-than", [allow(**cond("DateGreaterThan", "aws:CurrentTime",
                                        "2020-01-01T00:00:00Z"))], {}, {}, "allowed", ""),
    ("date-less-than-fails", [allow(**cond("DateLessThan", "aws:CurrentTime",
                                           "2020-01-01T00:00:00Z"))], {}, {},
     "implicitDeny", "identity"),
    ("date-epoch", [allow(**cond("DateLessThan", "aws:CurrentTime", "4102444800"))], {}, {},
     "allowed", ""),
    ("date-not-equals", [allow(**cond("DateNotEquals", "aws:CurrentTime",
                                      "2026-06-01T12:00:00Z"))], {}, {}, "implicitDeny",
     "identity"),
    ("bool-secure-transport-deny", [allow(), deny(**cond("Bool", "aws:SecureTransport",
                                                         "false"))], {},
     {"context": {"aws:SecureTransport": "false"}}, "explicitDeny", "identity"),
    ("bool-true", [allow(**cond("Bool", "aws:SecureTransport", True))], {}, {}, "allowed", ""),
    ("ip-address-v4", [allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))], {}, {},
     "allowed", ""),
    ("ip-address-v4-outside", [allow(**cond("IpAddress", "aws:SourceIp", "198.51.100.0/24"))],
     {}, {}, "implicitDeny", "identity"),
    ("not-ip-address", [allow(**cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"))], {},
     {}, "implicitDeny", "identity"),
    ("ip-address-v6", [allow(**cond("IpAddress", "aws:SourceIp", "2001:db8::/32"))], {},
     {"context": {"aws:SourceIp": "2001:db8:1234::1"}}, "allowed", ""),
    ("ip-address-v6-against-v4", [allow(**cond("IpAddress", "aws:SourceIp", "0.0.0.0/0"))], {},
     {"context": {"aws:SourceIp": "2001:db8::1"}}, "implicitDeny", "identity"),
    ("arn-like", [allow(**cond("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{A}:role/book-*"))],
     {}, {}, "allowed", ""),
    ("arn-like-parts-do-not-span", [allow(**cond("ArnLike", "aws:PrincipalArn",
                                                 "arn:aws:iam::*"))], {}, {},
     "implicitDeny", "identity"),
    ("arn-not-like", [allow(**cond("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"))],
     {}, {}, "implicitDeny", "identity"),
    ("arn-equals", [allow(**cond("ArnEquals", "aws:PrincipalArn", ROLE))], {}, {},
     "allowed", ""),
    ("null-true-absent", [allow(**cond("Null", "aws:TokenIssueTime", "true"))], {}, {},
     "allowed", ""),
    ("null-false-absent", [allow(**cond("Null", "aws:TokenIssueTime", "false"))], {}, {},
     "implicitDeny", "identity"),
    ("null-false-present", [allow(**cond("Null", "aws:RequestedRegion", "false"))], {}, {},
     "allowed", ""),
    ("binary-equals", [allow(**cond("BinaryEquals", "custom:blob", "QmluYXJ5VmFsdWU="))], {},
     {"context": {"custom:blob": "QmluYXJ5VmFsdWU="}}, "allowed", ""),
    ("binary-equals-differs", [allow(**cond("BinaryEquals", "custom:blob", "QmluYXJ5VmFsdWU="))],
     {}, {"context": {"custom:blob": "b3RoZXI="}}, "implicitDeny", "identity"),
    ("unknown-operator-never-grants", [allow(**cond("StringSortOf", "aws:RequestedRegion",
                                                    "us-east-1"))], {}, {},
     "implicitDeny", "identity"),
    ("unknown-operator-in-deny-does-not-deny",
     [allow(), deny(**cond("StringSortOf", "aws:RequestedRegion", "us-east-1"))], {}, {},
     "allowed", ""),
    # -- multivalued keys: dynamodb:LeadingKeys
    ("for-all-values-subset", [allow(**cond("ForAllValues:StringEquals", "dynamodb:LeadingKeys",
                                            ["u1", "u2"]))], {},
     {"context": {"dynamodb:LeadingKeys": ["u1"]}}, "allowed", ""),
    ("for-all-values-not-subset", [allow(**cond("ForAllValues:StringEquals",
                                                "dynamodb:LeadingKeys", ["u1"]))], {},
     {"context": {"dynamodb:LeadingKeys": ["u1", "u2"]}}, "implicitDeny", "identity"),
    ("for-all-values-absent-holds", [allow(**cond("ForAllValues:StringEquals",
                                                  "dynamodb:LeadingKeys", ["u1"]))], {}, {},
     "allowed", ""),
    ("for-any-value-one", [allow(**cond("ForAnyValue:StringEquals", "dynamodb:LeadingKeys",
                                        ["u2"]))], {},
     {"context": {"dynamodb:LeadingKeys": ["u1", "u2"]}}, "allowed", ""),
    ("for-any-value-none", [allow(**cond("ForAnyValue:StringEquals", "dynamodb:LeadingKeys",
                                         ["u3"]))], {},
     {"context": {"dynamodb:LeadingKeys": ["u1", "u2"]}}, "implicitDeny", "identity"),
    ("for-any-value-absent-fails", [allow(**cond("ForAnyValue:StringEquals",
                                                 "dynamodb:LeadingKeys", ["u1"]))], {}, {},
     "implicitDeny", "identity"),
    ("for-all-values-with-variable", [allow(**cond(
        "ForAllValues:StringEquals", "dynamodb:LeadingKeys", "${aws:userid}"))], {},
     {"context": {"dynamodb:LeadingKeys": ["AROAEXAMPLE:save-book"]}}, "allowed", ""),
    # -- policy variables
    ("variable-in-resource", [allow("s3:GetObject", "arn:aws:s3:::photos/${aws:username}/*")],
     {}, {"principal": USER, "role": None, "action": "s3:GetObject",
          "resource": "arn:aws:s3:::photos/mary/cat.jpg",
          "context": {"aws:username": "mary"}}, "allowed", ""),
    ("variable-in-resource-other-user",
     [allow("s3:GetObject", "arn:aws:s3:::photos/${aws:username}/*")], {},
     {"principal": USER, "role": None, "action": "s3:GetObject",
      "resource": "arn:aws:s3:::photos/bob/cat.jpg", "context": {"aws:username": "mary"}},
     "implicitDeny", "identity"),
    ("variable-missing-never-matches",
     [allow("s3:GetObject", "arn:aws:s3:::photos/${aws:username}/*")], {},
     {"action": "s3:GetObject", "resource": "arn:aws:s3:::photos/mary/cat.jpg"},
     "implicitDeny", "identity"),
    ("variable-default", [allow("s3:GetObject", "arn:aws:s3:::photos/${aws:username, 'shared'}/*")],
     {}, {"action": "s3:GetObject", "resource": "arn:aws:s3:::photos/shared/x"}, "allowed", ""),
    ("variable-literal-star", [allow("s3:GetObject", "arn:aws:s3:::photos/${*}")], {},
     {"action": "s3:GetObject", "resource": "arn:aws:s3:::photos/*"}, "allowed", ""),
    ("variable-literal-star-is-not-wildcard",
     [allow("s3:GetObject", "arn:aws:s3:::photos/${*}")], {},
     {"action": "s3:GetObject", "resource": "arn:aws:s3:::photos/cat.jpg"},
     "implicitDeny", "identity"),
    ("variable-literal-dollar-question",
     [allow("s3:GetObject", "arn:aws:s3:::photos/${$}${?}")], {},
     {"action": "s3:GetObject", "resource": "arn:aws:s3:::photos/$?"}, "allowed", ""),
    ("variable-principal-account-in-condition",
     [allow(**cond("StringEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}"))], {},
     {"context": {"aws:ResourceAccount": A}}, "allowed", ""),
    # -- the root user
    ("root-same-account", [], {}, {"principal": f"arn:aws:iam::{A}:root", "role": None},
     "allowed", ""),
    ("root-denied-by-resource-policy", [], {"resource": [deny(Principal="*")]},
     {"principal": f"arn:aws:iam::{A}:root", "role": None}, "explicitDeny", "resource"),
]

BASE_CONTEXT = {"aws:RequestedRegion": "us-east-1", "aws:SecureTransport": "true",
                "aws:SourceIp": "203.0.113.7", "aws:CurrentTime": "2026-06-01T12:00:00Z",
                "aws:PrincipalArn": ROLE, "aws:PrincipalAccount": A,
                "aws:userid": "AROAEXAMPLE:save-book"}


def run(identity, policies, fields) -> tuple[Request, Decision]:
    fields = {"principal": SESSION, "action": "dynamodb:PutItem", "resource": TABLE,
              "role": ROLE, **fields}
    fields["context"] = {**BASE_CONTEXT, **fields.get("context", {})}
    request = Request(**fields)
    kwargs = {}
    for kind in ("resource", "boundary"):
        if kind in policies:
            kwargs[kind] = Policy(doc(*policies[kind]), kind, f"the {kind} policy")
    if "session" in policies:
        kwargs["session"] = [Policy(doc(*policies["session"]), "session", "the session policy")]
    identity_policies = [Policy(doc(*identity), "identity", "inline policy 'p' of role/r", "p")]
    return request, evaluate(request, identity_policies if identity else (), **kwargs)


def test_the_table_is_large_enough():
    assert len(CASES) >= 60 and len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_evaluation(case):
    _, identity, policies, fields, expected, reason = case
    _, decision = run(identity, policies, fields)
    assert (decision.decision, decision.reason) == (expected, reason)
    assert decision.allowed == (expected == "allowed")
    if expected == "explicitDeny":
        assert decision.deciding is not None and decision.deciding.effect == "Deny"
    if expected == "implicitDeny":
        assert decision.deciding is None


def test_the_deciding_and_matched_statements_are_named():
    identity = Policy(doc({"Sid": "Write", **allow("dynamodb:*", TABLE)},
                          {"Sid": "NoDelete", **deny("dynamodb:DeleteItem")}),
                      "identity", "inline policy 'books' of role/book-writer", "books")
    request = Request(SESSION, "dynamodb:PutItem", TABLE, role=ROLE)
    decision = evaluate(request, [identity])
    assert decision.deciding.sid == "Write" and decision.deciding.index == 0
    assert [s.sid for s in decision.matched] == ["Write"]
    denied = evaluate(Request(SESSION, "dynamodb:DeleteItem", TABLE, role=ROLE), [identity])
    assert denied.deciding.sid == "NoDelete" and denied.deciding.policy is identity
    assert [s.sid for s in denied.matched] == ["Write", "NoDelete"]


def test_missing_context_lists_the_keys_the_request_lacks():
    policy = Policy(doc(allow(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1",
                                                          "aws:RequestedRegion": "us-east-1"}})),
                    "identity", "p")
    decision = evaluate(Request(SESSION, "dynamodb:PutItem", TABLE,
                                context={"aws:RequestedRegion": "us-east-1"}), [policy])
    assert decision.missing_context == ("aws:SourceVpc",)


def test_documents_as_moto_stores_them():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", ' \
           '"Resource": "*"}}'
    from urllib.parse import quote

    for document in (text, quote(text)):
        decision = evaluate(Request(USER, "s3:GetObject", BUCKET + "/a"),
                            [Policy(document, "identity", "p")])
        assert decision.allowed


# ---------------------------------------------------------------------- messages
PREFIX = (f"User: {SESSION} is not authorized to perform: dynamodb:PutItem on resource: "
          f"{TABLE}")


@pytest.mark.parametrize("identity,policies,ending", [
    ([], {}, " because no identity-based policy allows the dynamodb:PutItem action"),
    ([deny()], {}, " with an explicit deny in an identity-based policy"),
    ([allow()], {"resource": [deny(Principal="*")]},
     " with an explicit deny in a resource-based policy"),
    ([allow()], {"boundary": [allow("s3:*")]},
     " because no permissions boundary allows the dynamodb:PutItem action"),
    ([allow()], {"boundary": [deny()]}, " with an explicit deny in a permissions boundary"),
    ([allow()], {"session": [allow("s3:*")]},
     " because no session policy allows the dynamodb:PutItem action"),
    ([allow()], {"session": [deny()]}, " with an explicit deny in a session policy"),
])
def test_message_endings(identity, policies, ending):
    request, decision = run(identity, policies, {})
    assert message(request, decision) == PREFIX + ending


def test_message_for_a_cross_account_resource_policy():
    request, decision = run([allow()], {}, {"principal": OTHER_SESSION, "role": OTHER_ROLE,
                                            "resource_account": A})
    assert message(request, decision) == (
        f"User: {OTHER_SESSION} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{TABLE} because no resource-based policy allows the dynamodb:PutItem action")


def test_message_names_a_denying_managed_policy_in_the_account():
    arn = f"arn:aws:iam::{A}:policy/no-writes"
    request = Request(SESSION, "dynamodb:PutItem", TABLE, role=ROLE)
    decision = evaluate(request, [Policy(doc(deny()), "identity", arn, arn)])
    assert message(request, decision) == (
        PREFIX + f" with an explicit deny in an identity-based policy: {arn}")


def test_message_leaves_out_the_resource_of_an_action_without_one():
    request = Request(USER, "s3:ListAllMyBuckets", "*")
    decision = evaluate(request, [])
    assert message(request, decision) == (
        f"User: {USER} is not authorized to perform: s3:ListAllMyBuckets because no "
        "identity-based policy allows the s3:ListAllMyBuckets action")
