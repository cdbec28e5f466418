"""Where GraphQL requests reach the sandbox, as the router classifies them (imports nothing
heavy: the router imports this module for every request).

Two forms reach one API's GraphQL endpoint:

- ``<endpoint>/_appsync/<api_id>/graphql`` (``sb.appsync_url(api_id)``);
- a request whose ``Host`` is ``<api_id>.appsync-api.<region>.amazonaws.com`` (or
  ``<api_id>.appsync-api.localhost``), path ``/graphql``, as on AWS. While the sandbox runs,
  ``requests`` sends ``https://<api_id>.appsync-api...`` URLs here (``sandbox/aws_urls.py``).

The management API (``appsync.<region>.amazonaws.com``, what boto3's ``appsync`` client calls)
is not here: those are AWS API calls, decided by IAM, and answered by moto or by
``management.py``.
"""

from __future__ import annotations

import re

LOCAL_PATH = re.compile(r"^/_appsync/(?P<api>[A-Za-z0-9-]+)(?P<path>/.*)?$")
APPSYNC_HOST = re.compile(
    r"^(?P<api>[a-z0-9-]+)\.appsync-api\.(?:(?P<region>[a-z0-9-]+)\.amazonaws\.com|localhost)"
    r"(?::\d+)?$", re.IGNORECASE)


def is_graphql_request(path: str, host: str) -> bool:
    """Whether this request is addressed to a GraphQL API's endpoint. moto serves AppSync
    Events' ``/event`` on the same host; everything else there is GraphQL's."""
    if path.startswith("/_appsync/"):
        return LOCAL_PATH.match(path) is not None
    return ".appsync-api." in host and APPSYNC_HOST.match(host) is not None and \
        not path.startswith("/event")


def api_of(path: str, host: str) -> tuple[str, str] | None:
    """(api id, path under it) of a GraphQL request."""
    matched = LOCAL_PATH.match(path)
    if matched:
        return matched["api"], matched["path"] or "/"
    host_match = APPSYNC_HOST.match(host)
    if host_match:
        return host_match["api"].lower(), path or "/"
    return None
