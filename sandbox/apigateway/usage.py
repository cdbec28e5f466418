"""API keys and usage plans: who may call a method that requires a key, and how often.

moto stores keys, usage plans and their keys but checks none of them. API Gateway, for a
method with ``apiKeyRequired``: the ``x-api-key`` header must hold the value of an enabled key
that is in a usage plan of this API stage (else 403 Forbidden); the plan's throttle (a token
bucket: ``burstLimit`` tokens, refilled at ``rateLimit`` a second) and quota (``limit`` requests
a DAY, WEEK or MONTH) then apply (429 Too Many Requests, 429 Limit Exceeded).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

FORBIDDEN = (403, {"message": "Forbidden"}, "ForbiddenException", True, "INVALID_API_KEY")
TOO_MANY_REQUESTS = (429, {"message": "Too Many Requests"}, None, True, "THROTTLED")
LIMIT_EXCEEDED = (429, {"message": "Limit Exceeded"}, None, True, "QUOTA_EXCEEDED")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class UsagePlans:
    """Throttle buckets and quota counters, per usage plan and key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._counts: dict[tuple[str, str, str], int] = {}

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._counts.clear()

    def check(self, api: Any, stage: str, key_value: str | None
              ) -> tuple[tuple[Any, ...] | None, Any]:
        """(the gateway error to answer, or None; the API key used)."""
        from moto.apigateway.models import apigateway_backends

        backend = apigateway_backends[api.account_id][api.region_name]
        key = next((k for k in list(backend.keys.values())
                    if key_value and k.value == key_value and k.enabled), None)
        if key is None:
            return FORBIDDEN, None
        plans = [plan for plan in list(backend.usage_plans.values())
                 if {"apiId": api.id, "stage": stage} in [
                     {"apiId": s.get("apiId"), "stage": s.get("stage")}
                     for s in plan.api_stages]
                 and key.id in backend.usage_plan_keys.get(plan.id, {})]
        if not plans:
            return FORBIDDEN, key
        plan = plans[0]
        with self._lock:
            if plan.throttle and not self._take_token(plan, key.id):
                return TOO_MANY_REQUESTS, key
            if plan.quota and not self._count(plan, key.id):
                return LIMIT_EXCEEDED, key
        return None, key

    def _take_token(self, plan: Any, key_id: str) -> bool:
        rate = float(plan.throttle.get("rateLimit") or 0)
        burst = float(plan.throttle.get("burstLimit") or 0) or max(rate, 1.0)
        now = time.monotonic()
        bucket = self._buckets.setdefault((plan.id, key_id), _Bucket(burst, now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _count(self, plan: Any, key_id: str) -> bool:
        limit = int(plan.quota.get("limit") or 0)
        period = str(plan.quota.get("period") or "DAY").upper()
        now = time.gmtime()
        window = {"DAY": time.strftime("%Y-%m-%d", now), "WEEK": time.strftime("%G-W%V", now),
                  "MONTH": time.strftime("%Y-%m", now)}.get(period, time.strftime("%Y-%m-%d"))
        counter = (plan.id, key_id, window)
        if self._counts.get(counter, 0) >= limit:
            return False
        self._counts[counter] = self._counts.get(counter, 0) + 1
        return True
