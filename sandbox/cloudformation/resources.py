"""Resource types moto's CloudFormation lacks, or makes differently from AWS, each made through
the service's own backend (so that the sandbox's seams, IAM and deliveries apply to them as to
a resource made with boto3).

A row of sandbox/seams.py adds :data:`MODELS` to moto's model map
(moto/cloudformation/parsing.py ``get_model_map``). Each class follows moto's
``CloudFormationModel`` protocol: ``create_from_cloudformation_json`` returns an object whose
``physical_resource_id`` is what ``Ref`` answers; ``delete`` removes it.
The properties are CloudFormation's ("AWS resource and property types reference",
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from moto.apigateway.models import Method, RestAPI, apigateway_backends
from moto.awslambda.models import LambdaFunction
from moto.iam.models import Role, iam_backends
from moto.s3.models import FakeBucket

from ..apigateway import openapi


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _openapi_methods(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI body with ``x-amazon-apigateway-any-method`` as ``ANY`` (how API Gateway reads
    the extension: "x-amazon-apigateway-any-method object") and swagger 2.0 read as OpenAPI 3
    (moto's import refuses swagger; the paths, methods and integrations read the same)."""
    body = copy.deepcopy(body)
    for path_item in (body.get("paths") or {}).values():
        if isinstance(path_item, dict) and "x-amazon-apigateway-any-method" in path_item:
            path_item["ANY"] = path_item.pop("x-amazon-apigateway-any-method")
        for key in [k for k in path_item if k.lower() == "parameters" or k.startswith("x-")]:
            path_item.pop(key)
        for method, operation in path_item.items():
            integration = (operation or {}).get("x-amazon-apigateway-integration")
            if integration is not None and integration.get("credentials") == \
                    openapi.CALLER_CREDENTIALS:
                integration.pop("credentials")  # moto refuses it; openapi.import_rest sets it
            if integration is not None:
                # a MOCK integration (SAM's CORS preflight) has neither; moto requires both
                integration.setdefault("uri", "")
                integration.setdefault("httpMethod", method.upper())
    if "swagger" in body:
        body.pop("swagger")
        body["openapi"] = "3.0.1"
    return body


def _integration_details(api: Any, body: dict[str, Any]) -> None:
    """What moto's OpenAPI import drops from ``x-amazon-apigateway-integration``
    (moto/apigatewayv2/models.py Api.import_api keeps type, httpMethod, uri and
    payloadFormatVersion): the subtype of a first-class integration (``SQS-SendMessage``), its
    credentials, request parameters and timeout ("x-amazon-apigateway-integration object",
    API Gateway Developer Guide). The type is AWS's upper case (``aws_proxy`` is AWS_PROXY)."""
    integrations = {}
    for route in api.routes.values():
        target = route.target or ""
        if target.startswith("integrations/"):
            integrations[route.route_key] = api.integrations.get(target.split("/", 1)[1])
    for path, path_item in (body.get("paths") or {}).items():
        for method, operation in (path_item or {}).items():
            details = (operation or {}).get("x-amazon-apigateway-integration")
            integration = integrations.get(f"{method.upper()} {path}")
            if not isinstance(details, dict) or integration is None:
                continue
            if isinstance(integration.integration_type, str):
                integration.integration_type = integration.integration_type.upper()
            for key, attribute in (("integrationSubtype", "integration_subtype"),
                                   ("credentials", "credentials_arn"),
                                   ("requestParameters", "request_parameters"),
                                   ("connectionType", "connection_type"),
                                   ("connectionId", "connection_id"),
                                   ("tlsConfig", "tls_config")):
                if details.get(key) is not None:
                    setattr(integration, attribute, details[key])
            if details.get("timeoutInMillis") is not None:
                integration.timeout_in_millis = int(details["timeoutInMillis"])


def _default_route(api: Any) -> None:
    """The OpenAPI path ``$default`` with ``x-amazon-apigateway-any-method`` (SAM writes it for
    an HttpApi event without Path and Method) is the API's ``$default`` route, the catch-all
    ("Working with routes for HTTP APIs"); moto's import names it ``ANY $default``, a route
    no request matches."""
    for route in api.routes.values():
        if route.route_key == "ANY $default":
            route.route_key = "$default"


class _Model:
    """The protocol's parts every model here shares."""

    physical_id = ""
    # Fn::GetAtt's attribute names -> the attribute of the model that answers each
    ATTRIBUTES: dict[str, str] = {}

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return str(getattr(self, self.ATTRIBUTES[attribute_name]))

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str) -> None:
        return None

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------- API Gateway (REST)
class RestApiWithBody(RestAPI):
    """AWS::ApiGateway::RestApi, with its OpenAPI ``Body`` imported (as SAM's AWS::Serverless::Api
    makes it); moto's model reads only Name and Description."""

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> RestAPI:
        properties = cloudformation_json["Properties"]
        body = properties.get("Body")
        if isinstance(body, str):
            body = json.loads(body)
        name = properties.get("Name") or (body or {}).get("info", {}).get("title") or resource_name
        backend = apigateway_backends[account_id][region_name]
        api = backend.create_rest_api(
            name=name, description=properties.get("Description", ""),
            endpoint_configuration=properties.get("EndpointConfiguration"))
        if properties.get("BinaryMediaTypes"):
            api.binaryMediaTypes = list(properties["BinaryMediaTypes"])
        if body:
            _import_rest_body(backend, api.id, body)
        return api

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        body = cloudformation_json["Properties"].get("Body")
        if body:
            backend = apigateway_backends[account_id][region_name]
            api = backend.get_rest_api(original_resource.id)
            api.resources = {}
            api.default = api.add_child("/")
            _import_rest_body(backend, api.id, json.loads(body) if isinstance(body, str)
                              else body)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str) -> None:
        backend = apigateway_backends[account_id][region_name]
        if resource_name in backend.apis:  # resource_name: the API's ID (its Ref)
            backend.delete_rest_api(resource_name)


def _import_rest_body(backend: Any, api_id: str, body: dict[str, Any]) -> None:
    backend.put_rest_api(api_id, _openapi_methods(body), fail_on_warnings=False, mode="merge")
    openapi.import_rest(backend, api_id, body)


class ApiMethod(Method):
    """AWS::ApiGateway::Method with its whole Integration (credentials, request templates and
    parameters, passthrough, IntegrationResponses) and MethodResponses; moto's model passes only
    the integration's type, URI and HTTP method (and requires that method, which a MOCK
    integration need not have), so a non-proxy method answered "No match for output mapping"."""

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> Method:
        p = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        api, resource, verb = p["RestApiId"], p["ResourceId"], p["HttpMethod"]
        method: Method = backend.put_method(
            function_id=api, resource_id=resource, method_type=verb,
            authorization_type=p.get("AuthorizationType", "NONE"),
            api_key_required=p.get("ApiKeyRequired"),
            request_parameters=p.get("RequestParameters"),
            request_models=p.get("RequestModels"), operation_name=p.get("OperationName"),
            authorizer_id=p.get("AuthorizerId"),
            authorization_scopes=p.get("AuthorizationScopes"),
            request_validator_id=p.get("RequestValidatorId"))
        for response in p.get("MethodResponses") or []:
            backend.put_method_response(
                function_id=api, resource_id=resource, method_type=verb,
                response_code=str(response["StatusCode"]),
                response_models=response.get("ResponseModels") or {},
                response_parameters=response.get("ResponseParameters") or {})
        integration = p.get("Integration")
        if not integration:
            return method
        backend.put_integration(
            function_id=api, resource_id=resource, method_type=verb,
            integration_type=integration["Type"], uri=integration.get("Uri", ""),
            integration_method=integration.get("IntegrationHttpMethod") or verb,
            credentials=integration.get("Credentials"),
            request_templates=integration.get("RequestTemplates"),
            passthrough_behavior=integration.get("PassthroughBehavior"),
            timeout_in_millis=integration.get("TimeoutInMillis"),
            request_parameters=integration.get("RequestParameters"),
            content_handling=integration.get("ContentHandling"),
            connection_type=integration.get("ConnectionType"))
        for response in integration.get("IntegrationResponses") or []:
            backend.put_integration_response(
                function_id=api, resource_id=resource, method_type=verb,
                status_code=str(response["StatusCode"]),
                selection_pattern=response.get("SelectionPattern"),
                response_templates=response.get("ResponseTemplates") or {},
                response_parameters=response.get("ResponseParameters") or {},
                content_handling=response.get("ContentHandling"))
        return method


class ApiDeployment(_Model):
    """AWS::ApiGateway::Deployment: ``Ref`` answers the deployment's ID (moto's model has no
    physical_resource_id, so its Ref answered the model object itself)."""

    def __init__(self, api_id: str, deployment_id: str, stage: str | None):
        self.api_id, self.physical_id, self.stage = api_id, deployment_id, stage

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Deployment"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> ApiDeployment:
        p = cloudformation_json["Properties"]
        deployment = apigateway_backends[account_id][region_name].create_deployment(
            function_id=p["RestApiId"], name=p.get("StageName"),
            description=p.get("Description", ""),
            stage_variables=(p.get("StageDescription") or {}).get("Variables"))
        return cls(p["RestApiId"], deployment.id, p.get("StageName"))

    def delete(self, account_id: str, region_name: str) -> None:
        backend = apigateway_backends[account_id][region_name]
        api = backend.apis.get(self.api_id)
        if api is None:
            return
        if self.stage:  # the stage a Deployment's StageName made goes with it
            api.stages.pop(self.stage, None)
        if self.physical_id in api.deployments:
            api.delete_deployment(self.physical_id)


class ApiStage(_Model):
    """AWS::ApiGateway::Stage: a stage pointing at a deployment (moto has no such model)."""

    def __init__(self, api_id: str, name: str):
        self.api_id, self.physical_id = api_id, name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> ApiStage:
        p = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        api = backend.get_rest_api(p["RestApiId"])
        name = p.get("StageName") or resource_name
        existing = api.stages.get(name)
        if existing is not None:  # e.g. made by a Deployment's StageName
            existing.deployment_id = p.get("DeploymentId", existing.deployment_id)
            existing.variables.update(p.get("Variables") or {})
        else:
            backend.create_stage(p["RestApiId"], name, p.get("DeploymentId", ""),
                                 variables=p.get("Variables"),
                                 description=p.get("Description", ""),
                                 tracing_enabled=p.get("TracingEnabled"))
        return cls(p["RestApiId"], name)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        # the stage points at its new deployment (SAM makes one when the API changes)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[account_id][region_name].apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.physical_id, None)


# ---------------------------------------------------------------------- API Gateway (HTTP APIs)
class HttpApi(_Model):
    """AWS::ApiGatewayV2::Api: an HTTP API, its routes and integrations from its OpenAPI Body
    (as SAM's AWS::Serverless::HttpApi makes it), or quick create's Target."""

    def __init__(self, api_id: str, endpoint: str):
        self.physical_id, self.endpoint = api_id, endpoint

    ATTRIBUTES = {"ApiEndpoint": "endpoint", "ApiId": "physical_id"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Api"


    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> HttpApi:
        from moto.apigatewayv2.models import apigatewayv2_backends

        p = cloudformation_json["Properties"]
        body = p.get("Body")
        if isinstance(body, str):
            body = json.loads(body)
        backend = apigatewayv2_backends[account_id][region_name]
        api = backend.create_api(
            api_key_selection_expression=p.get("ApiKeySelectionExpression"),
            cors_configuration=p.get("CorsConfiguration"), description=p.get("Description"),
            disable_schema_validation=p.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=p.get("DisableExecuteApiEndpoint"),
            name=p.get("Name") or (body or {}).get("info", {}).get("title") or resource_name,
            protocol_type=p.get("ProtocolType", "HTTP"),
            route_selection_expression=p.get("RouteSelectionExpression"), tags=p.get("Tags"),
            version=p.get("Version"))
        if body:
            imported = _openapi_methods(body)
            api.import_api(json.dumps(imported), False)
            _integration_details(api, imported)
            _default_route(api)
            openapi.import_http(api, body)
        if p.get("Target"):  # quick create
            integration = api.create_integration(
                connection_type="INTERNET", description="", integration_type="AWS_PROXY",
                integration_method="POST", payload_format_version="2.0",
                integration_uri=p["Target"])
            api.create_route(api_key_required=False, authorization_scopes=[],
                             route_key=p.get("RouteKey", "$default"),
                             target=f"integrations/{integration.id}")
            api.create_stage({"stageName": "$default", "autoDeploy": True})
        return cls(api.api_id, api.api_endpoint)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        from moto.apigatewayv2.models import apigatewayv2_backends

        body = cloudformation_json["Properties"].get("Body")
        if body:
            api = apigatewayv2_backends[account_id][region_name].get_api(
                original_resource.physical_id)
            stages = dict(api.stages)
            body = json.loads(body) if isinstance(body, str) else body
            imported = _openapi_methods(body)
            api.import_api(json.dumps(imported), False)
            _integration_details(api, imported)
            _default_route(api)
            openapi.import_http(api, body)
            api.stages.update(stages)  # import_api clears the API; its stages stay
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.apigatewayv2.models import apigatewayv2_backends

        apigatewayv2_backends[account_id][region_name].delete_api(self.physical_id)


class HttpApiStage(_Model):
    """AWS::ApiGatewayV2::Stage (SAM's ``$default`` stage, deployed automatically)."""

    def __init__(self, api_id: str, name: str):
        self.api_id, self.physical_id = api_id, name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Stage"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> HttpApiStage:
        from moto.apigatewayv2.models import apigatewayv2_backends

        p = cloudformation_json["Properties"]
        api = apigatewayv2_backends[account_id][region_name].get_api(p["ApiId"])
        name = p.get("StageName", "$default")
        api.create_stage({"stageName": name, "autoDeploy": p.get("AutoDeploy", False),
                          "stageVariables": p.get("StageVariables") or {},
                          "description": p.get("Description"),
                          "defaultRouteSettings": p.get("DefaultRouteSettings"),
                          "routeSettings": p.get("RouteSettings") or {},
                          "accessLogSettings": p.get("AccessLogSettings")})
        return cls(p["ApiId"], name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.apigatewayv2.models import apigatewayv2_backends

        api = apigatewayv2_backends[account_id][region_name].apis.get(self.api_id)
        if api is not None:
            api.delete_stage(self.physical_id)


# ---------------------------------------------------------------------- SNS, SQS, S3 policies
class SnsSubscription(_Model):
    """AWS::SNS::Subscription (SAM's SNS event; a queue or function subscribed to a topic)."""

    def __init__(self, arn: str):
        self.physical_id = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> SnsSubscription:
        from moto.sns.models import sns_backends

        p = cloudformation_json["Properties"]
        backend = sns_backends[account_id][p.get("Region", region_name)]
        subscription = backend.subscribe(p["TopicArn"], p["Endpoint"], p["Protocol"])
        for name in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
                     "RedrivePolicy", "DeliveryPolicy"):
            if name in p:
                value = p[name]
                value = _json(value) if isinstance(value, dict) else str(value).lower() \
                    if isinstance(value, bool) else value
                backend.set_subscription_attributes(subscription.arn, name, value)
        return cls(subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.sns.models import sns_backends

        sns_backends[account_id][region_name].unsubscribe(self.physical_id)


class _PolicyOfEach(_Model):
    """A resource that sets the policy of each topic or queue it names, and clears it when
    deleted (a target already gone is passed over)."""

    TARGETS = ""

    def __init__(self, targets: list[str]):
        self.targets, self.physical_id = targets, "|".join(targets)

    @classmethod
    def set_policy(cls, account_id: str, region_name: str, target: str, policy: str) -> None:
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> _PolicyOfEach:
        p = cloudformation_json["Properties"]
        for target in p[cls.TARGETS]:
            cls.set_policy(account_id, region_name, target, _json(p["PolicyDocument"]))
        return cls(list(p[cls.TARGETS]))

    def delete(self, account_id: str, region_name: str) -> None:
        for target in self.targets:
            try:
                self.set_policy(account_id, region_name, target, "")
            except Exception:  # noqa: BLE001  (the topic or queue went first)
                pass


class TopicPolicy(_PolicyOfEach):
    """AWS::SNS::TopicPolicy: the policy of each topic it names."""

    TARGETS = "Topics"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def set_policy(cls, account_id: str, region_name: str, target: str, policy: str) -> None:
        from moto.sns.models import sns_backends

        sns_backends[account_id][region_name].set_topic_attribute(target, "Policy", policy)


class QueuePolicy(_PolicyOfEach):
    """AWS::SQS::QueuePolicy: the ``Policy`` attribute of each queue it names (by URL)."""

    TARGETS = "Queues"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def set_policy(cls, account_id: str, region_name: str, target: str, policy: str) -> None:
        from moto.sqs.models import sqs_backends

        sqs_backends[account_id][region_name].set_queue_attributes(
            target.rstrip("/").rsplit("/", 1)[-1], {"Policy": policy})


class BucketPolicy(_Model):
    """AWS::S3::BucketPolicy."""

    def __init__(self, bucket: str):
        self.physical_id = bucket

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> BucketPolicy:
        from moto.s3.models import s3_backends

        p = cloudformation_json["Properties"]
        s3_backends[account_id]["aws"].put_bucket_policy(
            p["Bucket"], _json(p["PolicyDocument"]).encode())
        return cls(p["Bucket"])

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.models import s3_backends

        try:
            s3_backends[account_id]["aws"].delete_bucket_policy(self.physical_id)
        except Exception:  # noqa: BLE001  (the bucket went first)
            pass


# ---------------------------------------------------------------------- EventBridge Scheduler
class Schedule(_Model):
    """AWS::Scheduler::Schedule (SAM's ScheduleV2 event)."""

    def __init__(self, group: str, name: str, arn: str):
        self.group, self.physical_id, self.arn = group, name, arn

    ATTRIBUTES = {"Arn": "arn"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"


    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> Schedule:
        from moto.scheduler.models import scheduler_backends

        p = cloudformation_json["Properties"]
        target = {key[0].upper() + key[1:]: value for key, value in p["Target"].items()}
        name = p.get("Name") or resource_name
        schedule = scheduler_backends[account_id][region_name].create_schedule(
            description=p.get("Description"), end_date=p.get("EndDate"),
            flexible_time_window=p.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            group_name=p.get("GroupName"), kms_key_arn=p.get("KmsKeyArn"), name=name,
            schedule_expression=p["ScheduleExpression"],
            schedule_expression_timezone=p.get("ScheduleExpressionTimezone"),
            start_date=p.get("StartDate"), state=p.get("State", "ENABLED"), target=target,
            action_after_completion=None)
        return cls(p.get("GroupName") or "default", name, schedule.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.scheduler.models import scheduler_backends

        scheduler_backends[account_id][region_name].delete_schedule(self.group,
                                                                      self.physical_id)


# ---------------------------------------------------------------------- Lambda functions, layers
class LambdaFunctionModel(LambdaFunction):
    """AWS::Lambda::Function with every property CreateFunction takes (moto's model passes only
    seven, dropping Layers, Architectures, DeadLetterConfig, EphemeralStorage, Tags ...), made
    by the backend's create_function, so that it runs in the sandbox's runtime as a function
    made with boto3 does."""

    IGNORED = ("Code", "FunctionName", "Tags")

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> LambdaFunction:
        from moto.awslambda.models import lambda_backends

        p = cloudformation_json["Properties"]
        spec: dict[str, Any] = {key: value for key, value in p.items() if key not in cls.IGNORED}
        spec["FunctionName"] = resource_name
        spec["Code"] = cls._code(p)
        if p.get("Tags"):
            spec["Tags"] = {tag["Key"]: tag["Value"] for tag in p["Tags"]}
        variables = (p.get("Environment") or {}).get("Variables")
        if isinstance(variables, dict):
            # CloudFormation passes a template's scalars as strings (YAML's false is "false"):
            # an environment variable that stayed a boolean ended the runtime at start
            spec["Environment"] = {**p["Environment"], "Variables": {
                name: _template_string(value) for name, value in variables.items()}}
        function: LambdaFunction = lambda_backends[account_id][region_name].create_function(spec)
        return function

    @staticmethod
    def _code(properties: dict[str, Any]) -> dict[str, Any]:
        code = dict(properties["Code"])
        if "ZipFile" in code:  # inline code: index.py, as CloudFormation writes it
            code["ZipFile"] = base64.b64encode(
                LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"]))
        return code

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: LambdaFunction, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> LambdaFunction:
        """An update through the backend's UpdateFunctionConfiguration and UpdateFunctionCode,
        inline code zipped as at creation (moto's model handed the ZipFile's text to
        UpdateFunctionCode as if it were base64, and failed)."""
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[account_id][region_name]
        p = cloudformation_json["Properties"]
        name = original_resource.function_name
        unchangeable = (*cls.IGNORED, "Architectures", "PackageType", "CodeSigningConfigArn")
        backend.update_function_configuration(  # no qualifier: $LATEST (moto hints str)
            name, None,  # type: ignore[arg-type]
            {key: value for key, value in p.items() if key not in unchangeable})
        code = cls._code(p)
        if p.get("Architectures"):
            code["Architectures"] = p["Architectures"]
        backend.update_function_code(name, None, code)  # type: ignore[arg-type]
        function: LambdaFunction = backend.get_function(name)
        return function


def _template_string(value: Any) -> Any:
    """A template's scalar as CloudFormation passes it to a string property."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


class LayerVersionModel(_Model):
    """AWS::Lambda::LayerVersion: ``Ref`` answers the version's ARN (moto's model has no
    physical_resource_id, so a function's Layers got the model object)."""

    def __init__(self, arn: str, name: str, version: str):
        self.physical_id, self.name, self.version = arn, name, version

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::LayerVersion"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> LayerVersionModel:
        from moto.awslambda.models import lambda_backends

        p = cloudformation_json["Properties"]
        spec = {key: value for key, value in p.items()}
        spec["LayerName"] = p.get("LayerName") or resource_name
        layer = lambda_backends[account_id][region_name].publish_layer_version(spec)
        return cls(layer.arn, spec["LayerName"], str(layer.version))

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        # a layer version never changes: CloudFormation publishes a new one (and keeps the old)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        lambda_backends[account_id][region_name].delete_layer_version(self.name, self.version)


class LambdaVersionModel(_Model):
    """AWS::Lambda::Version (SAM's AutoPublishAlias): ``Ref`` answers the version's ARN, GetAtt
    Version its number (moto's model has neither)."""

    def __init__(self, function_arn: str, version: str):
        self.physical_id, self.version = f"{function_arn}:{version}", version

    ATTRIBUTES = {"Version": "version"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Version"


    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> LambdaVersionModel:
        from moto.awslambda.models import lambda_backends

        p = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        published = backend.publish_version(p["FunctionName"], p.get("Description", ""))
        function = backend.get_function(p["FunctionName"])
        return cls(function.function_arn, str(published.version))  # type: ignore[union-attr]

    def delete(self, account_id: str, region_name: str) -> None:
        return None  # CloudFormation retains a version it published (UpdateReplacePolicy)


class LambdaAliasModel(_Model):
    """AWS::Lambda::Alias (SAM's AutoPublishAlias), which moto's CloudFormation lacks."""

    def __init__(self, arn: str, function: str, name: str):
        self.physical_id, self.function, self.name = arn, function, name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> LambdaAliasModel:
        from moto.awslambda.models import lambda_backends

        p = cloudformation_json["Properties"]
        version = str(p["FunctionVersion"]).rsplit(":", 1)[-1]
        alias = lambda_backends[account_id][region_name].create_alias(
            p["Name"], p["FunctionName"], version, p.get("Description", ""),
            p.get("RoutingConfig"))
        return cls(alias.arn, p["FunctionName"], p["Name"])

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        try:
            lambda_backends[account_id][region_name].delete_alias(self.name, self.function)
        except Exception:  # noqa: BLE001  (the function went first)
            pass


class EventInvokeConfigModel(_Model):
    """AWS::Lambda::EventInvokeConfig (SAM's EventInvokeConfig: retries, event age,
    destinations), which moto's CloudFormation lacks; put as the API puts it."""

    def __init__(self, function: str):
        self.physical_id = function

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> EventInvokeConfigModel:
        from moto.awslambda.models import lambda_backends

        p = cloudformation_json["Properties"]
        qualifier = p.get("Qualifier", "$LATEST")
        function = p["FunctionName"] if qualifier == "$LATEST" else (
            f"{p['FunctionName']}:{qualifier}")
        config = {key: p[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                          "DestinationConfig") if key in p}
        lambda_backends[account_id][region_name].put_function_event_invoke_config(function,
                                                                                  config)
        return cls(function)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        try:
            lambda_backends[account_id][region_name].delete_function_event_invoke_config(
                self.physical_id)
        except Exception:  # noqa: BLE001  (the function went first)
            pass


# ---------------------------------------------------------------------- Lambda permissions
def _function_and_qualifier(name: str) -> tuple[str, str | None]:
    """``arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>`` in its two parts."""
    parts = name.split(":")
    if name.startswith("arn:") and len(parts) == 8:
        return ":".join(parts[:7]), parts[7]
    if not name.startswith("arn:") and len(parts) == 2:
        return parts[0], parts[1]
    return name, None


class LambdaPermission(_Model):
    """AWS::Lambda::Permission, added as AddPermission adds it (moto's model copies every
    property into the statement, FunctionName included, and the policy evaluator then finds no
    statement that allows the call)."""

    API_NAMES = ("Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken",
                 "PrincipalOrgID", "FunctionUrlAuthType")

    def __init__(self, function: str, sid: str):
        self.function, self.physical_id = function, sid

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Permission"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> LambdaPermission:
        from moto.awslambda.models import lambda_backends

        p = cloudformation_json["Properties"]
        statement = {key: p[key] for key in cls.API_NAMES if key in p}
        statement["StatementId"] = resource_name  # CloudFormation names it after the stack
        backend = lambda_backends[account_id][region_name]
        name, qualifier = _function_and_qualifier(p["FunctionName"])
        if qualifier:  # an alias or a version (SAM's AutoPublishAlias): its own policy
            backend.add_permission(name, qualifier, json.dumps(statement))
        else:  # LambdaBackend.add_permission without a qualifier (it reads "" as one)
            backend.get_function(name).policy.add_statement(json.dumps(statement))
        return cls(p["FunctionName"], resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        try:
            lambda_backends[account_id][region_name].remove_permission(self.function,
                                                                        self.physical_id)
        except Exception:  # noqa: BLE001  (the function went first)
            pass


# ---------------------------------------------------------------------- IAM roles
class RoleWithManagedPolicies(Role):
    """AWS::IAM::Role with its ManagedPolicyArns attached (moto's model ignores them, and SAM's
    roles get their permissions that way: AWSLambdaBasicExecutionRole,
    AWSLambdaSQSQueueExecutionRole, ...), updated in place and deleted with its policies."""

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> Role:
        role = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                       account_id, region_name, **kwargs)
        backend = iam_backends[account_id]["aws"]
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns") or []:
            backend.attach_role_policy(arn, role.name)  # AWS managed ones resolve (seams.py)
        return role

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        backend = iam_backends[account_id]["aws"]
        p = cloudformation_json["Properties"]
        role = original_resource
        document = p["AssumeRolePolicyDocument"]
        backend.update_assume_role_policy(role.name, _json(document))
        wanted = {policy["PolicyName"]: policy["PolicyDocument"] for policy in
                  p.get("Policies") or []}
        for name in [name for name in role.policies if name not in wanted]:
            backend.delete_role_policy(role.name, name)
        for name, policy in wanted.items():
            backend.put_role_policy(role.name, name, _json(policy))
        arns = set(p.get("ManagedPolicyArns") or [])
        for arn in [arn for arn in role.managed_policies if arn not in arns]:
            backend.detach_role_policy(arn, role.name)
        for arn in arns - set(role.managed_policies):
            backend.attach_role_policy(arn, role.name)
        return role

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str) -> None:
        # CloudFormation detaches the role's policies before deleting it (DeleteRole alone
        # refuses with DeleteConflict)
        backend = iam_backends[account_id]["aws"]
        role = next((r for r in backend.roles.values() if r.name == resource_name), None)
        if role is not None:
            for arn in list(role.managed_policies):
                backend.detach_role_policy(arn, role.name)
        super().delete_from_cloudformation_json(resource_name, cloudformation_json,
                                                account_id, region_name)


# ---------------------------------------------------------------------- S3 buckets
class BucketWithNotifications(FakeBucket):
    """AWS::S3::Bucket with its NotificationConfiguration (moto's model ignores it; SAM's S3
    event puts the function there), set through PutBucketNotificationConfiguration, so that S3
    checks each destination's policy as it does for boto3 (sandbox/s3/notifications.py), and
    its WebsiteConfiguration (ignored by moto too)."""

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> FakeBucket:
        bucket = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                         account_id, region_name, **kwargs)
        _put_notifications(account_id, bucket.name, cloudformation_json)
        return bucket

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
            account_id: str, region_name: str) -> FakeBucket:
        bucket = super().update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id,
            region_name)
        _put_notifications(account_id, bucket.name, cloudformation_json)
        return bucket

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        # CloudFormation cannot delete a bucket that holds objects (BucketNotEmpty); moto's
        # delete_bucket then answers False, and its model went on as if it had
        from moto.s3.exceptions import BucketNotEmpty
        from moto.s3.models import s3_backends

        backend = s3_backends[account_id]["aws"]
        if resource_name in backend.buckets and backend.buckets[resource_name].keys:
            raise BucketNotEmpty(resource_name)
        super().delete_from_cloudformation_json(resource_name, cloudformation_json,
                                                account_id, region_name)


def _put_notifications(account_id: str, bucket: str, cloudformation_json: Any) -> None:
    """CloudFormation's NotificationConfiguration in the form moto's S3 backend keeps."""
    from moto.s3.models import s3_backends

    website = (cloudformation_json.get("Properties") or {}).get("WebsiteConfiguration")
    if website:  # PutBucketWebsite's XML, which the sandbox's website endpoint reads
        error = website.get("ErrorDocument")
        s3_backends[account_id]["aws"].put_bucket_website(bucket, (
            '<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f'<IndexDocument><Suffix>{website.get("IndexDocument", "index.html")}</Suffix>'
            "</IndexDocument>"
            + (f"<ErrorDocument><Key>{error}</Key></ErrorDocument>" if error else "")
            + "</WebsiteConfiguration>").encode())
    config = (cloudformation_json.get("Properties") or {}).get("NotificationConfiguration")
    if not config:
        return

    def entries(key: str, target: str, target_key: str) -> list[dict[str, Any]]:
        found = []
        for entry in config.get(key) or []:
            item: dict[str, Any] = {target_key: entry[target], "Event": [entry["Event"]]}
            rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                item["Filter"] = {"S3Key": {"FilterRule": [
                    {"Name": rule["Name"], "Value": rule["Value"]} for rule in rules]}}
            found.append(item)
        return found

    notification: dict[str, Any] = {
        "CloudFunctionConfiguration": entries("LambdaConfigurations", "Function",
                                              "CloudFunction"),
        "QueueConfiguration": entries("QueueConfigurations", "Queue", "Queue"),
        "TopicConfiguration": entries("TopicConfigurations", "Topic", "Topic"),
    }
    if (config.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        notification["EventBridgeConfiguration"] = {}
    s3_backends[account_id]["aws"].put_bucket_notification_configuration(bucket, notification)


# ---------------------------------------------------------------------- Step Functions
class StateMachine(_Model):
    """AWS::StepFunctions::StateMachine, made in the Step Functions backend that runs executions
    (moto's model makes it in the other one, where StartExecution cannot find it), with
    Definition, DefinitionString, DefinitionS3Location and DefinitionSubstitutions."""

    def __init__(self, arn: str, name: str):
        self.physical_id, self.name = arn, name

    ATTRIBUTES = {"Arn": "physical_id", "Name": "name", "StateMachineRevisionId": "physical_id"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::StepFunctions::StateMachine"


    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> StateMachine:
        from moto.stepfunctions.responses import get_backend

        p = cloudformation_json["Properties"]
        name = p.get("StateMachineName") or resource_name
        machine = get_backend(account_id, region_name).create_state_machine(
            name, _definition(p, account_id), p.get("RoleArn", ""),
            tags=[{"key": t["Key"], "value": t["Value"]} for t in p.get("Tags") or []],
            loggingConfiguration=p.get("LoggingConfiguration"),
            tracingConfiguration=p.get("TracingConfiguration"),
            sm_type=p.get("StateMachineType", "STANDARD"))
        return cls(machine.arn, name)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        from moto.stepfunctions.responses import get_backend

        p = cloudformation_json["Properties"]
        get_backend(account_id, region_name).update_state_machine(
            original_resource.physical_id, definition=_definition(p, account_id),
            role_arn=p.get("RoleArn"))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.stepfunctions.responses import get_backend

        get_backend(account_id, region_name).delete_state_machine(self.physical_id)


def _definition(p: dict[str, Any], account_id: str) -> str:
    """The definition's text, DefinitionSubstitutions' ${name}s replaced."""
    if "Definition" in p:
        text = _json(p["Definition"])
    elif "DefinitionS3Location" in p:
        from moto.s3.models import s3_backends

        where = p["DefinitionS3Location"]
        key = s3_backends[account_id]["aws"].get_object(where["Bucket"], where["Key"])
        text = key.value.decode() if key is not None else ""
    else:
        text = p.get("DefinitionString", "")
    for name, value in (p.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + name + "}", _json(value) if isinstance(value, dict)
                            else str(value))
    return text


# ---------------------------------------------------------------------- Secrets Manager, Scheduler
class Secret(_Model):
    """AWS::SecretsManager::Secret: ``SecretString``, or one generated as
    ``GenerateSecretString`` describes (a password, alone or as the ``GenerateStringKey`` of the
    ``SecretStringTemplate``'s JSON); ``Ref`` answers the secret's ARN. Deleting the stack
    deletes the secret without a recovery window, so that a redeploy can make it again."""

    def __init__(self, arn: str):
        self.physical_id = arn

    ATTRIBUTES = {"Id": "physical_id"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"


    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> Secret:
        from moto.secretsmanager.models import secretsmanager_backends

        p = cloudformation_json.get("Properties") or {}
        backend = secretsmanager_backends[account_id][region_name]
        value = p.get("SecretString")
        generate = p.get("GenerateSecretString")
        if value is not None and generate is not None:
            raise ValueError("You can't specify both SecretString and GenerateSecretString")
        if generate is not None:
            value = _generated_secret(backend, generate)
        created = backend.create_secret(
            name=p.get("Name") or resource_name, secret_string=value, secret_binary=None,
            description=p.get("Description"), tags=p.get("Tags"), kms_key_id=p.get("KmsKeyId"),
            client_request_token=None, replica_regions=p.get("ReplicaRegions") or [],
            force_overwrite=False)
        return cls(json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"])

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.secretsmanager.models import secretsmanager_backends

        secretsmanager_backends[account_id][region_name].delete_secret(
            self.physical_id, recovery_window_in_days=None, force_delete_without_recovery=True)


def _generated_secret(backend: Any, generate: dict[str, Any]) -> str:
    """GenerateSecretString's value: GetRandomPassword with its options (32 characters by
    default), placed in the template's JSON under GenerateStringKey when both are given."""
    password = json.loads(backend.get_random_password(
        password_length=int(generate.get("PasswordLength", 32)),
        exclude_characters=generate.get("ExcludeCharacters", ""),
        exclude_numbers=bool(generate.get("ExcludeNumbers", False)),
        exclude_punctuation=bool(generate.get("ExcludePunctuation", False)),
        exclude_uppercase=bool(generate.get("ExcludeUppercase", False)),
        exclude_lowercase=bool(generate.get("ExcludeLowercase", False)),
        include_space=bool(generate.get("IncludeSpace", False)),
        require_each_included_type=bool(generate.get("RequireEachIncludedType", True))))[
        "RandomPassword"]
    template, key = generate.get("SecretStringTemplate"), generate.get("GenerateStringKey")
    if template is None and key is None:
        return str(password)
    if template is None or key is None:
        raise ValueError("GenerateSecretString: SecretStringTemplate and GenerateStringKey go "
                         "together (give both, or neither for a plain password)")
    document = json.loads(template)
    document[key] = password
    return json.dumps(document)


class ScheduleGroup(_Model):
    """AWS::Scheduler::ScheduleGroup: ``Ref`` answers its name, ``Arn`` its ARN."""

    def __init__(self, name: str, arn: str):
        self.physical_id, self.arn = name, arn

    ATTRIBUTES = {"Arn": "arn"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::ScheduleGroup"


    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> ScheduleGroup:
        from moto.scheduler.models import scheduler_backends

        p = cloudformation_json.get("Properties") or {}
        group = scheduler_backends[account_id][region_name].create_schedule_group(
            name=p.get("Name") or resource_name, tags=p.get("Tags") or [])
        return cls(group.name, group.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.scheduler.models import scheduler_backends

        scheduler_backends[account_id][region_name].delete_schedule_group(self.physical_id)


MODELS: dict[str, type[Any]] = {
    "AWS::Lambda::Function": LambdaFunctionModel,
    "AWS::Lambda::LayerVersion": LayerVersionModel,
    "AWS::Lambda::Version": LambdaVersionModel,
    "AWS::Lambda::Alias": LambdaAliasModel,
    "AWS::Lambda::EventInvokeConfig": EventInvokeConfigModel,
    "AWS::Lambda::Permission": LambdaPermission,
    "AWS::IAM::Role": RoleWithManagedPolicies,
    "AWS::S3::Bucket": BucketWithNotifications,
    "AWS::StepFunctions::StateMachine": StateMachine,
    "AWS::ApiGateway::RestApi": RestApiWithBody,
    "AWS::ApiGateway::Method": ApiMethod,
    "AWS::ApiGateway::Deployment": ApiDeployment,
    "AWS::ApiGateway::Stage": ApiStage,
    "AWS::ApiGatewayV2::Api": HttpApi,
    "AWS::ApiGatewayV2::Stage": HttpApiStage,
    "AWS::SNS::Subscription": SnsSubscription,
    "AWS::SNS::TopicPolicy": TopicPolicy,
    "AWS::SQS::QueuePolicy": QueuePolicy,
    "AWS::S3::BucketPolicy": BucketPolicy,
    "AWS::Scheduler::Schedule": Schedule,
    "AWS::Scheduler::ScheduleGroup": ScheduleGroup,
    "AWS::SecretsManager::Secret": Secret,
}


def model_map(original: Any) -> Any:
    """Wrap parsing.get_model_map: moto's models, and these."""

    def get_model_map() -> dict[str, type[Any]]:
        return {**original(), **MODELS}

    return get_model_map
