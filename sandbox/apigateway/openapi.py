"""Authorization in an OpenAPI definition, imported as API Gateway imports it: each security
scheme with an ``x-amazon-apigateway-authorizer`` becomes an authorizer, and each operation's
``security`` requirement (or the definition's default) sets its method's or route's
authorization ("x-amazon-apigateway-authorizer object", "x-amazon-apigateway-authtype
property", and "Use API Gateway extensions to OpenAPI" in the API Gateway Developer Guide).

moto's imports ignore these extensions, so an API that SAM made from ``Auth`` would otherwise
be open to everyone. What each line of a definition becomes:

- REST: ``type: token|request|cognito_user_pools`` → a TOKEN, REQUEST or COGNITO_USER_POOLS
  authorizer; a TOKEN authorizer without ``identitySource`` reads the header its scheme names;
  the scheme named ``api_key`` (``type: apiKey``, ``name: x-api-key``, no authtype) sets
  ``apiKeyRequired``; a scheme whose ``x-amazon-apigateway-authtype`` is ``awsSigv4`` sets
  AWS_IAM.
- HTTP APIs: ``type: request`` → a REQUEST (Lambda) authorizer, ``type: jwt`` → a JWT
  authorizer with its ``jwtConfiguration``; ``awsSigv4`` → AWS_IAM; a requirement naming no
  scheme (SAM writes ``NONE``) leaves the route open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# an integration's credentials that mean "invoke with the caller's credentials" (SAM's
# InvokeRole: CALLER_CREDENTIALS, with AWS_IAM authorization)
CALLER_CREDENTIALS = "arn:aws:iam::*:user/*"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace",
                "x-amazon-apigateway-any-method"}


def security_schemes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The definition's security schemes: swagger 2.0's ``securityDefinitions`` and OpenAPI 3's
    ``components.securitySchemes``."""
    schemes = dict(body.get("securityDefinitions") or {})
    schemes.update((body.get("components") or {}).get("securitySchemes") or {})
    return {name: scheme for name, scheme in schemes.items() if isinstance(scheme, dict)}


def _operations(body: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, list[str]]]]]:
    """Each operation's path, method (``ANY`` for the any-method extension) and the schemes its
    security requirement names, with their scopes (the definition's ``security`` by default)."""
    default = body.get("security")
    found = []
    for path, item in (body.get("paths") or {}).items():
        for method, operation in (item or {}).items():
            if method.lower() not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            requirements = operation.get("security", default) or []
            named = [(name, list(scopes or [])) for requirement in requirements
                     if isinstance(requirement, dict) for name, scopes in requirement.items()]
            verb = "ANY" if method.startswith("x-") else method.upper()
            found.append((path, verb, named))
    return found


def _authorizers(schemes: dict[str, dict[str, Any]], types: dict[str, str], default: str
                 ) -> Iterator[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """Each scheme that declares an authorizer: its name, the scheme, its extension and the
    authorizer's type; a type API Gateway does not know fails the import."""
    for name, scheme in schemes.items():
        extension = scheme.get("x-amazon-apigateway-authorizer")
        if not isinstance(extension, dict):
            continue
        kind = types.get(str(extension.get("type", default)).lower())
        if kind is None:
            raise ValueError(f"Authorizer {name}: unknown type {extension.get('type')!r} (this "
                             f"kind of API accepts {', '.join(types)})")
        yield name, scheme, extension, kind


def _integration(body: dict[str, Any], path: str, verb: str) -> dict[str, Any]:
    item = (body.get("paths") or {}).get(path) or {}
    operation = item.get("x-amazon-apigateway-any-method" if verb == "ANY" else verb.lower())
    found = (operation or {}).get("x-amazon-apigateway-integration")
    return found if isinstance(found, dict) else {}


def _is_api_key(scheme: dict[str, Any]) -> bool:
    return (scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key"
            and "x-amazon-apigateway-authtype" not in scheme
            and "x-amazon-apigateway-authorizer" not in scheme)


def _is_iam(scheme: dict[str, Any]) -> bool:
    return str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4"


# ---------------------------------------------------------------------- REST APIs
REST_TYPES = {"token": "TOKEN", "request": "REQUEST", "cognito_user_pools": "COGNITO_USER_POOLS"}


def import_rest(backend: Any, api_id: str, body: dict[str, Any]) -> None:
    """The authorizers of a REST API's definition, and its methods' authorization."""
    schemes = security_schemes(body)
    authorizers: dict[str, Any] = {}
    for name, scheme, extension, kind in _authorizers(schemes, REST_TYPES, "token"):
        source = extension.get("identitySource")
        if source is None and kind != "REQUEST" and scheme.get("in") == "header":
            source = f"method.request.header.{scheme.get('name', 'Authorization')}"
        authorizer = backend.create_authorizer(
            api_id, name, kind, provider_arns=extension.get("providerARNs"),
            auth_type=scheme.get("x-amazon-apigateway-authtype"),
            authorizer_uri=extension.get("authorizerUri"),
            authorizer_credentials=extension.get("authorizerCredentials"),
            identity_source=source,
            authorizer_result_ttl=extension.get("authorizerResultTtlInSeconds", 300))
        # moto's create_authorizer drops the expression (a misspelt keyword)
        authorizer.identity_validation_expression = extension.get("identityValidationExpression")
        authorizers[name] = authorizer
    api = backend.get_rest_api(api_id)
    resources = {resource.get_path(): resource for resource in api.resources.values()}
    for path, verb, named in _operations(body):
        resource = resources.get(path)
        method = resource.resource_methods.get(verb) if resource is not None else None
        if method is None:
            continue
        integration = _integration(body, path, verb)
        if integration.get("credentials") == CALLER_CREDENTIALS and method.method_integration:
            method.method_integration.credentials = CALLER_CREDENTIALS
        for name, scopes in named:
            scheme = schemes.get(name, {})
            if name in authorizers:
                method.authorization_type = ("COGNITO_USER_POOLS"
                                             if authorizers[name].type == "COGNITO_USER_POOLS"
                                             else "CUSTOM")
                method.authorizer_id = authorizers[name].id
                method.authorization_scopes = scopes or None
            elif _is_iam(scheme):
                method.authorization_type = "AWS_IAM"
            elif _is_api_key(scheme):
                method.api_key_required = True


# ---------------------------------------------------------------------- HTTP APIs
HTTP_TYPES = {"request": "REQUEST", "jwt": "JWT"}


def import_http(api: Any, body: dict[str, Any]) -> None:
    """The authorizers of an HTTP API's definition, and its routes' authorization."""
    schemes = security_schemes(body)
    authorizers: dict[str, Any] = {}
    for name, _scheme, extension, kind in _authorizers(schemes, HTTP_TYPES, ""):
        source = extension.get("identitySource")
        if isinstance(source, str):
            source = [part.strip() for part in source.split(",") if part.strip()]
        jwt = extension.get("jwtConfiguration") or None
        authorizers[name] = api.create_authorizer(
            auth_creds_arn=extension.get("authorizerCredentials"),
            auth_payload_format_version=extension.get("authorizerPayloadFormatVersion"),
            auth_result_ttl=extension.get("authorizerResultTtlInSeconds"),
            authorizer_type=kind, authorizer_uri=extension.get("authorizerUri"),
            enable_simple_response=extension.get("enableSimpleResponses"),
            identity_source=source, identity_validation_expr=None,
            jwt_config={key[0].lower() + key[1:]: value for key, value in jwt.items()}
            if isinstance(jwt, dict) else None,
            name=name)
    routes = {route.route_key: route for route in api.routes.values()}
    for path, verb, named in _operations(body):
        route = routes.get("$default" if path == "$default" else f"{verb} {path}")
        if route is None or not named:
            continue
        for name, scopes in named:
            scheme = schemes.get(name, {})
            if name in authorizers:
                route.authorization_type = ("JWT" if authorizers[name].authorizer_type == "JWT"
                                            else "CUSTOM")
                route.authorizer_id = authorizers[name].id
                route.authorization_scopes = scopes or None
            elif _is_iam(scheme):
                route.authorization_type = "AWS_IAM"
