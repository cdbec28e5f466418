"""S3 static website hosting, served by the sandbox over HTTP so that a browser can open it.

moto stores a bucket's website configuration (PutBucketWebsite) but has no website endpoint.
The sandbox serves one, as S3's does: GET and HEAD only; the index document for ``/`` and for
"folders"; a redirect from ``folder`` to ``folder/`` when ``folder/index.html`` exists; the
error document (or S3's HTML error page) with 404; and 403 unless the object is public (a
bucket policy allowing ``s3:GetObject`` to everyone, or a public-read ACL).

URLs: ``<endpoint>/_website/<bucket>/<key>`` (no bucket name can start with ``_``), and any
request whose Host is ``<bucket>.s3-website-<region>.amazonaws.com``,
``<bucket>.s3-website.<region>.amazonaws.com`` or ``<bucket>.s3-website.localhost:<port>``. A
browser on this machine resolves ``*.localhost`` to loopback, so
``website_url(sandbox, bucket)`` serves the site from the root of its own origin, which is what
absolute links such as ``/app.js`` need.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from moto.s3.models import s3_backends

if TYPE_CHECKING:
    from ..server.router import WSGIApp
    from ..server.service import SandboxService

WEBSITE_PATH = re.compile(r"^/_website/(?P<bucket>[a-z0-9.-]+)(?P<key>/.*)?$")
WEBSITE_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9.-]+?)\.s3-website(?:[-.](?P<region>[a-z0-9-]+)\.amazonaws\.com|"
    r"\.localhost)(?::\d+)?$", re.IGNORECASE)

ERROR_PAGE = """<html>
<head><title>{status} {reason}</title></head>
<body>
<h1>{status} {reason}</h1>
<ul>
<li>Code: {code}</li>
<li>Message: {message}</li>
{extra}<li>RequestId: {request_id}</li>
<li>HostId: {host_id}</li>
</ul>
<hr/>
</body>
</html>
"""


def website_url(sandbox: SandboxService, bucket: str) -> str:
    """The site's URL for a browser on this machine: ``http://<bucket>.s3-website.localhost:<port>/``.
    (Scripts that cannot resolve ``*.localhost`` use ``<endpoint>/_website/<bucket>/``.)"""
    port = sandbox.endpoint_url.rsplit(":", 1)[1]
    return f"http://{bucket}.s3-website.localhost:{port}/"


def route(environ: dict[str, Any]) -> WSGIApp | None:
    """The WSGI application for a website request, or None when the request is not one."""
    path = environ.get("PATH_INFO", "")
    matched = WEBSITE_PATH.match(path) if path.startswith("/_website/") else None
    if matched:
        bucket, key = matched["bucket"], (matched["key"] or "/")
    else:
        host = WEBSITE_HOST.match(environ.get("HTTP_HOST", ""))
        if host is None:
            return None
        bucket, key = host["bucket"].lower(), path or "/"
    raw = (environ.get("RAW_URI") or "").split("?", 1)[0]
    if raw and not matched:
        key = unquote(raw)
    elif raw and matched:
        key = unquote(raw.partition(f"/_website/{bucket}")[2] or "/")
    return _App(bucket, key)


class _App:
    def __init__(self, bucket: str, key: str):
        self.bucket = bucket
        self.path = key

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, headers, body = serve(self.bucket, self.path, environ.get("REQUEST_METHOD", "GET"))
        from http import HTTPStatus

        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [*headers, ("Content-Length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _error(status: int, code: str, message: str,
           **extra: str) -> tuple[int, list[tuple[str, str]], bytes]:
    from http import HTTPStatus

    items = "".join(f"<li>{name}: {value}</li>\n" for name, value in extra.items())
    page = ERROR_PAGE.format(status=status, reason=HTTPStatus(status).phrase, code=code,
                             message=message, extra=items, request_id=uuid.uuid4().hex[:16].upper(),
                             host_id=uuid.uuid4().hex)
    return status, [("Content-Type", "text/html; charset=utf-8")], page.encode()


def serve(bucket_name: str, path: str, method: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for a website request, as S3's website endpoint answers it."""
    if method not in ("GET", "HEAD"):
        return _error(405, "MethodNotAllowed",
                      "The specified method is not allowed against this resource.",
                      Method=method, ResourceType="OBJECT")
    bucket = None
    for account in list(dict.values(s3_backends)):
        for backend in list(dict.values(account)):
            bucket = backend.buckets.get(bucket_name)
            if bucket is not None:
                break
        if bucket is not None:
            break
    if bucket is None:
        return _error(404, "NoSuchBucket", "The specified bucket does not exist",
                      BucketName=bucket_name)
    config = _website_configuration(bucket)
    if config is None:
        return _error(404, "NoSuchWebsiteConfiguration",
                      "The specified bucket does not have a website configuration",
                      BucketName=bucket_name)
    index, error_key = config
    key = path.lstrip("/")
    if key == "" or key.endswith("/"):
        key += index
    found = bucket.keys.get(key)
    if found is None and not key.endswith(index) and bucket.keys.get(f"{key}/{index}"):
        return 302, [("Location", "/" + path.lstrip("/") + "/")], b""
    if found is not None and not _public(bucket, key, found):
        return _error(403, "AccessDenied", "Access Denied")
    if found is None:
        if error_key and bucket.keys.get(error_key) is not None \
                and _public(bucket, error_key, bucket.keys[error_key]):
            page = bucket.keys[error_key]
            return 404, [("Content-Type", page.metadata.get("Content-Type") or "text/html")], \
                page.value
        if not _public(bucket, key, None):
            return _error(403, "AccessDenied", "Access Denied")
        return _error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
    headers = [("Content-Type", found.metadata.get("Content-Type") or "binary/octet-stream"),
               ("ETag", found.etag), ("Last-Modified", found.last_modified_RFC1123)]
    return 200, headers, found.value


def _website_configuration(bucket: Any) -> tuple[str, str | None] | None:
    raw = bucket.website_configuration
    if not raw:
        return None
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return None

    def text(path: str) -> str | None:
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == path.split("/")[0]:
                for child in element:
                    if child.tag.rsplit("}", 1)[-1] == path.split("/")[1]:
                        return (child.text or "").strip()
        return None

    return text("IndexDocument/Suffix") or "index.html", text("ErrorDocument/Key")


def _public(bucket: Any, key: str, found: Any) -> bool:
    """Whether anyone may read the object, as IAM decides for the anonymous principal: a bucket
    policy allowing s3:GetObject to "*" or a public-read ACL, unless Block Public Access takes
    them away. For a missing key, s3:ListBucket decides between 404 and 403, as on S3."""
    from .. import iam

    source = f"S3 website endpoint of {bucket.name}"
    if iam.anonymous_may("s3:GetObject", f"arn:aws:s3:::{bucket.name}/{key}", source=source):
        return True
    return found is None and iam.anonymous_may("s3:ListBucket", f"arn:aws:s3:::{bucket.name}",
                                               source=source)
