"""Unsigned requests, decided as AWS decides them.

AWS authenticates an API request by its signature. Two of the sandbox's services also serve
unsigned requests, from the anonymous principal: S3 (a bucket policy granting ``"Principal":
"*"``, or a public-read ACL; S3 User Guide, "Blocking public access") and SQS (a queue policy
granting ``"*"``: "You can allow shared queue access to anonymous users. Such access requires no
signature", SQS Developer Guide). Only such a resource policy can allow the anonymous principal;
S3's Block Public Access settings take those grants away. Every other service refuses an
unsigned request with its protocol's missing-authentication answer (``denials``).

Requests that are no AWS API calls are left to their own routes: API Gateway invokes
(``/restapis/.../_user_request_/...`` and ``<api>.execute-api.<region>...`` hosts), S3 website
pages (``/_website/...``, ``<bucket>.s3-website...`` hosts), CORS preflights (``OPTIONS``),
browser POST uploads signed in the form, and STS's web identity and SAML calls, which AWS takes
unsigned.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

ANONYMOUS = "anonymous"  # the principal of an unsigned request, as CloudTrail names it
ANONYMOUS_SERVICES = ("s3", "sqs")
UNSIGNED_STS = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")
# x-amz-target prefixes of the JSON services, and the query protocols' API versions
TARGETS = {"DynamoDB": "dynamodb", "DynamoDBStreams": "dynamodb", "AWSStepFunctions": "states",
           "AWSEvents": "events", "Logs": "logs", "AmazonSQS": "sqs"}
VERSIONS = {"2010-03-31": "sns", "2012-11-05": "sqs", "2011-06-15": "sts", "2010-05-08": "iam"}
LAMBDA_PATH = re.compile(r"^/20\d\d-\d\d-\d\d/")  # /2015-03-31/functions/..., /2019-09-25/...
APIGATEWAY_PATHS = ("/restapis", "/apikeys", "/usageplans", "/domainnames", "/account",
                    "/clientcertificates", "/vpclinks", "/v2/")
API_GATEWAY_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.", re.IGNORECASE)
WEBSITE_HOST = re.compile(r"\.s3-website[-.]", re.IGNORECASE)


def is_api_call(environ: dict[str, Any]) -> bool:
    """Whether an unsigned request is an AWS API call at all (see the module's docstring)."""
    path = environ.get("PATH_INFO", "")
    host = environ.get("HTTP_HOST", "")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if "/_user_request_" in path or path.startswith("/_website/"):
        return False
    if API_GATEWAY_HOST.match(host) or WEBSITE_HOST.search(host):
        return False
    if method == "OPTIONS":
        return False
    return not path.startswith(("/latest/meta-data/", "/latest/api/"))  # moto's EC2 metadata


def body_matters(environ: dict[str, Any]) -> bool:
    """Whether the body can say which service or operation an unsigned request is for."""
    return bool(environ.get("HTTP_X_AMZ_TARGET")
                or environ.get("CONTENT_TYPE", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data"))
                or environ.get("QUERY_STRING", "").startswith("delete"))


def is_signed_form(environ: dict[str, Any], body: bytes) -> bool:
    """An S3 browser upload (POST, multipart/form-data) whose form carries its signature."""
    if environ.get("REQUEST_METHOD", "").upper() != "POST" or not environ.get(
            "CONTENT_TYPE", "").startswith("multipart/form-data"):
        return False
    lowered = body.lower()
    return b'name="x-amz-credential"' in lowered or b'name="awsaccesskeyid"' in lowered


def service_of(environ: dict[str, Any], body: bytes) -> str | None:
    """The service an unsigned API call is for (moto falls back to S3, as here); None for one
    AWS takes unsigned (Cognito's public APIs, STS's web identity and SAML calls)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix = re.split(r"[._]", target, maxsplit=1)[0]
        if prefix.startswith("AWSCognito"):
            return None
        return TARGETS.get(prefix, prefix.lower())
    form = _form(environ, body)
    if "Action" in form:
        if form["Action"] in UNSIGNED_STS:
            return None
        return VERSIONS.get(form.get("Version", ""), "sts")
    path = environ.get("PATH_INFO", "")
    if LAMBDA_PATH.match(path):
        return "lambda"
    if path.startswith(APIGATEWAY_PATHS):
        return "apigateway"
    return "s3"


def _form(environ: dict[str, Any], body: bytes) -> dict[str, str]:
    found = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        found.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return found


def signing_hint(service: str, region: str) -> str:
    """An Authorization header naming only the service and region: moto routes an unsigned
    request by its signature's credential scope (``moto_server/werkzeug_app.py``
    ``infer_service_region_host`` sends every other unsigned request to S3)."""
    return (f"AWS4-HMAC-SHA256 Credential={ANONYMOUS.upper()}/19700101/{region}/{service}/"
            "aws4_request, SignedHeaders=host, Signature=0")
