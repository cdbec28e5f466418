"""moto's RDS proxies given real endpoints (rows of sandbox/seams.py, "rdsproxy" section).

moto (``moto/rds/models.py``) stores a proxy, its default target group and its targets, and
runs nothing: its endpoint is a name that answers nothing, a target's port is always 5432 and
its health turns AVAILABLE on the second look whatever the database does.
"""

from __future__ import annotations

import json
import random
import socket
import urllib.parse
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import iam
from . import running, wire
from .proxy import AuthFailed, ProxyEndpoint

PORT = 5432  # PostgreSQL's: a proxy endpoint answers on its engine's port
SECRETS_ACTION = "secretsmanager:GetSecretValue"
ROLE_CANNOT_BE_ASSUMED = ("IAM role ARN value is invalid or does not include the required "
                          "permissions for: RDS Proxy. The role {role} must exist and trust "
                          "rds.amazonaws.com (its trust policy's Principal.Service).")
ONLY_POSTGRESQL = ("The sandbox's RDS Proxy runs PostgreSQL's protocol only (its databases are "
                   "Aurora PostgreSQL clusters): EngineFamily {family!r} is not supported here. "
                   "Use EngineFamily='POSTGRESQL'.")
NO_TARGET = ("The proxy {name} has no registered target: call register_db_proxy_targets("
             "DBProxyName={name!r}, DBClusterIdentifiers=[...]) first.")


def _invalid(message: str) -> Exception:
    from moto.rds.exceptions import InvalidParameterValue

    return InvalidParameterValue(message)


def _key(proxy: Any) -> tuple[str, str, str]:
    return (proxy.account_id, proxy.region, proxy.db_proxy_name)


def _bind() -> socket.socket:
    """A listening socket for a new proxy: its own loopback address on port 5432 (Linux routes
    all of 127.0.0.0/8 to loopback), else 127.0.0.1:5432, else 127.0.0.1 on a free port."""
    candidates = [f"127.{random.randint(1, 254)}.{random.randint(0, 255)}."
                  f"{random.randint(1, 254)}" for _ in range(8)]
    for host, port in [*((c, PORT) for c in candidates), ("127.0.0.1", PORT), ("127.0.0.1", 0)]:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((host, port))
        except OSError:
            listener.close()
            continue
        return listener
    raise _invalid("The sandbox found no free loopback address for the proxy's endpoint.")


def _backend(proxy: Any) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[proxy.account_id][proxy.region]


def _target(account: str, region: str, name: str) -> tuple[str, int]:
    """Where the proxy's connections go: its first registered target's real endpoint."""
    from moto.rds.models import rds_backends

    backend = rds_backends[account][region]
    proxy = backend.db_proxies.get(name)
    targets = proxy.proxy_target_groups["default"].targets if proxy else []
    for target in targets:
        cluster = backend.clusters.get(target.rds_resource_id)
        if cluster is not None:
            return str(cluster.endpoint), int(cluster.port)
        instance = backend.databases.get(target.rds_resource_id)
        if instance is not None:
            return str(instance.address), int(instance.port or PORT)
    raise wire.PgError({"S": "FATAL", "C": wire.CONNECTION_FAILURE,
                        "M": NO_TARGET.format(name=name)})


def _authenticator(account: str, region: str, name: str) -> Any:
    def authenticate(user: str, password: str, database: str) -> str:
        from moto.rds.models import rds_backends
        from moto.secretsmanager.models import secretsmanager_backends

        proxy = rds_backends[account][region].db_proxies.get(name)
        if proxy is None:
            raise AuthFailed(f"The proxy {name} has been deleted.")
        refused: list[str] = []
        for entry in proxy.auth or []:
            secret_arn = entry.get("SecretArn", "")
            if not secret_arn:
                continue
            if not iam.role_may(proxy.role_arn, SECRETS_ACTION, secret_arn, region=region,
                                source=f"RDS Proxy {name} reading its secret"):
                refused.append(secret_arn)
                continue
            try:
                value = secretsmanager_backends[account][region].get_secret_value(
                    secret_arn, None, None)  # type: ignore[arg-type]  # moto's hints: str
                secret = json.loads(value.get("SecretString") or "{}")
            except Exception:  # noqa: BLE001 - a missing or unreadable secret matches no one
                continue
            if secret.get("username") != user:
                continue
            iam_auth = entry.get("IAMAuth", "DISABLED")
            if iam_auth in ("REQUIRED", "ENABLED") and password.count("X-Amz-Signature=") == 1:
                _check_token(password, user, proxy)
                return str(secret["password"])
            if iam_auth == "REQUIRED":
                raise AuthFailed(
                    f'password authentication failed for user "{user}": this proxy requires IAM '
                    "authentication for it (IAMAuth REQUIRED). Connect with the token "
                    "rds.generate_db_auth_token(DBHostname=<the proxy's Endpoint>, Port=5432, "
                    f"DBUsername={user!r}) as the password.")
            if password != secret.get("password"):
                break
            return str(secret["password"])
        if refused:
            raise AuthFailed(
                f'password authentication failed for user "{user}": the proxy\'s role '
                f"{proxy.role_arn} may not call {SECRETS_ACTION} on {', '.join(refused)}, so the "
                "proxy cannot read those credentials. Allow it in the role's policy.")
        raise AuthFailed(f'password authentication failed for user "{user}"')

    return authenticate


def _check_token(token: str, user: str, proxy: Any) -> None:
    """An IAM authentication token ("Connecting to a database using IAM authentication", RDS
    User Guide): generate_db_auth_token's presigned ``connect`` request for this proxy's
    endpoint and this user, not expired, by a principal allowed ``rds-db:connect`` on
    ``arn:aws:rds-db:<region>:<account>:dbuser:<proxy resource id>/<user>``. The signature
    itself is not checked (the sandbox checks no request's signature; it reads the key)."""
    from ..iam.actions import Access

    failed = f'PAM authentication failed for user "{user}": '
    parts = urllib.parse.urlsplit("//" + token)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if query.get("Action") != "connect" or query.get("DBUser") != user:
        raise AuthFailed(failed + f"the token is not a connect token for user {user!r}.")
    try:
        port = parts.port
    except ValueError:
        port = None
    if (parts.hostname, port) != (proxy.endpoint, PORT):
        raise AuthFailed(failed + f"the token was made for {parts.hostname}:{port}, not for "
                         f"this proxy ({proxy.endpoint}:{PORT}).")
    try:
        signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=timezone.utc)
        expires = int(query.get("X-Amz-Expires", "900"))
        key = query["X-Amz-Credential"].split("/")[0]
    except (KeyError, ValueError):
        raise AuthFailed(failed + "the token is malformed.") from None
    if datetime.now(timezone.utc) > signed + timedelta(seconds=expires):
        raise AuthFailed(failed + f"the token expired ({expires} s after it was made): make a "
                         "new one for each connection.")
    enforcer = iam.enforcer()
    if enforcer is None or not enforcer.enforcing:
        return
    principal = enforcer.principal_of_key(key)
    if principal is None:
        raise AuthFailed(failed + f"the token was signed with an unknown access key {key}.")
    resource = (f"arn:aws:rds-db:{proxy.region}:{proxy.account_id}:dbuser:"
                f"{proxy.resource_id}/{user}")
    decision = enforcer.authorize(principal, Access("rds-db:connect", resource, {}),
                                  region=proxy.region,
                                  source=f"RDS Proxy {proxy.db_proxy_name} (IAM authentication)")
    if not decision.allowed:
        raise AuthFailed(failed + f"{principal.arn} is not allowed rds-db:connect on "
                         f"{resource}.")


def _settings(account: str, region: str, name: str) -> Any:
    def settings() -> dict[str, Any]:
        from moto.rds.models import rds_backends

        proxy = rds_backends[account][region].db_proxies.get(name)
        if proxy is None:
            return {"MaxConnectionsPercent": 100, "MaxIdleConnectionsPercent": 50,
                    "ConnectionBorrowTimeout": 120}
        group = proxy.proxy_target_groups["default"]
        return {"MaxConnectionsPercent": int(group.max_connections),
                "MaxIdleConnectionsPercent": int(group.max_idle_connections),
                "ConnectionBorrowTimeout": int(group.borrow_timeout),
                "InitQuery": getattr(group, "init_query", None)}

    return settings


# ---------------------------------------------------------------------- the seams

def create_db_proxy(original: Any) -> Any:
    def create(self: Any, db_proxy_name: str, engine_family: str, auth: list[dict[str, str]],
               role_arn: str, *args: Any, **kwargs: Any) -> Any:
        if engine_family != "POSTGRESQL":
            raise _invalid(ONLY_POSTGRESQL.format(family=engine_family))
        if not iam.role_exists(role_arn) or not iam.service_may(
                "rds.amazonaws.com", "sts:AssumeRole", role_arn,
                source=f"RDS Proxy {db_proxy_name} assuming its role"):
            raise _invalid(ROLE_CANNOT_BE_ASSUMED.format(role=role_arn))
        for entry in auth or []:
            if entry.get("AuthScheme", "SECRETS") == "SECRETS" and not entry.get("SecretArn"):
                raise _invalid("Auth: each entry with AuthScheme SECRETS needs a SecretArn: the "
                               "Secrets Manager secret holding the database user's credentials.")
        proxy = original(self, db_proxy_name, engine_family, auth, role_arn, *args, **kwargs)
        extension = running()
        if extension is not None:
            account, region = proxy.account_id, proxy.region
            endpoint = ProxyEndpoint(
                db_proxy_name, lambda: _target(account, region, db_proxy_name),
                _authenticator(account, region, db_proxy_name),
                _settings(account, region, db_proxy_name), listener=_bind())
            extension.add(_key(proxy), endpoint)
            proxy.endpoint = endpoint.host
        return proxy

    return create


def delete_db_proxy(original: Any) -> Any:
    def delete(self: Any, proxy_name: str) -> Any:
        from moto.rds.exceptions import DBProxyNotFoundFault

        if proxy_name not in self.db_proxies:  # moto raises KeyError: HTTP 500
            raise DBProxyNotFoundFault(proxy_name)
        proxy = original(self, proxy_name)
        extension = running()
        if extension is not None:
            extension.remove(_key(proxy))
        return proxy

    return delete


def register_db_proxy_targets(original: Any) -> Any:
    def register(self: Any, db_proxy_name: str, target_group_name: str,
                 db_cluster_identifiers: list[str], db_instance_identifiers: list[str]) -> Any:
        from moto.rds.exceptions import DBClusterNotFoundError, DBProxyNotFoundFault

        if db_proxy_name not in self.db_proxies:
            raise DBProxyNotFoundFault(db_proxy_name)
        for cluster_id in db_cluster_identifiers:
            if cluster_id not in self.clusters:
                raise DBClusterNotFoundError(cluster_id)
        targets = original(self, db_proxy_name, target_group_name, db_cluster_identifiers,
                           db_instance_identifiers)
        for target in targets:
            cluster = self.clusters.get(target.rds_resource_id)
            if cluster is not None:
                target.endpoint = str(cluster.endpoint)
                target.port = int(cluster.port)
        return targets

    return register


def modify_db_proxy_target_group(original: Any) -> Any:
    def modify(self: Any, proxy_name: str, config: dict[str, Any]) -> Any:
        # Ranges of ConnectionPoolConfiguration (RDS API Reference).
        percent = config.get("MaxConnectionsPercent")
        if percent is not None and not 1 <= int(percent) <= 100:
            raise _invalid("MaxConnectionsPercent must be between 1 and 100.")
        idle = config.get("MaxIdleConnectionsPercent")
        if idle is not None and not 0 <= int(idle) <= int(
                percent if percent is not None else
                self.db_proxies[proxy_name].proxy_target_groups["default"].max_connections):
            raise _invalid("MaxIdleConnectionsPercent must be between 0 and "
                           "MaxConnectionsPercent.")
        timeout = config.get("ConnectionBorrowTimeout")
        if timeout is not None and not 0 <= int(timeout) <= 3600:
            raise _invalid("ConnectionBorrowTimeout must be between 0 and 3600 seconds.")
        group = original(self, proxy_name, config)
        if "InitQuery" in config:
            group.init_query = config["InitQuery"] or None
        return group

    return modify


def _target_health(self: Any) -> dict[str, str]:
    """``DBProxyTarget.target_health``: whether the proxy can reach the target now."""
    host, port = self.endpoint, self.port
    if not host:
        return {"State": "UNAVAILABLE", "Reason": "UNREACHABLE",
                "Description": "The target has no endpoint the proxy can reach."}
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            pass
    except OSError as error:
        return {"State": "UNAVAILABLE", "Reason": "UNREACHABLE",
                "Description": f"The proxy could not reach {host}:{port} ({error.strerror})."}
    return {"State": "AVAILABLE"}


target_health = property(_target_health)
