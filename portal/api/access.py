"""Who may call the API: bearer tokens with scopes, a rate limit per token, and every call in
the audit trail. Cookies play no part (``portal.api.NoApiSessions``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from portal.api.problems import ApiProblem
from portal.auth import PUBLIC
from portal.db import db_session
from portal.models import ApiToken
from portal.models.api import SCOPES
from portal.services import api_tokens, audit

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def requires_scope(scope: str) -> Callable[[F], F]:
    """Mark an API view with the scope its token needs. The blueprint's ``before_request``
    (:func:`check_access`) enforces it before anything else is read; the screens' log-in does
    not apply (``required_permissions`` = PUBLIC for the screens' gatekeeper)."""
    assert scope in SCOPES, scope

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            return view(*args, **kwargs)

        wrapper.required_permissions = (PUBLIC,)  # type: ignore[attr-defined]
        wrapper.api_scope = scope  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def check_access(scope: str) -> ApiToken:
    """A valid token with ``scope``, within its rate limit; else a problem (401/403/429)."""
    token = authenticate()
    if scope not in (token.scopes or []):
        raise ApiProblem(
            403,
            "scope-ontbreekt",
            f"Dit API-token mag dit niet: de bevoegdheid '{scope}' ({SCOPES[scope]}) ontbreekt.",
        )
    rate_limit(token)
    return token


def authenticate() -> ApiToken:
    found = api_tokens.find_token(db_session(), bearer_token())
    g.api_token_id = found.token.id if found.token is not None else None
    g.api_koppeling_id = found.token.koppeling_id if found.token is not None else None
    if found.problem:
        raise ApiProblem(
            401,
            found.code or "niet-aangemeld",
            found.problem,
            headers={"WWW-Authenticate": "Bearer"},
        )
    g.api_token = found.token
    return found.token


def rate_limit(token: ApiToken) -> None:
    """A fixed window per token and minute in Redis; over the limit: 429 with Retry-After."""
    from portal.jobs import redis_connection

    limit = token.rate_limit_per_minute or current_app.config.get("API_RATE_LIMIT", 600)
    now = time.time()
    window = int(now // 60)
    key = f"{current_app.config['RQ_QUEUE_PREFIX']}:api-rate:{token.token_hash[:24]}:{window}"
    conn = redis_connection()
    pipe = conn.pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    count = pipe.execute()[0]
    if count > limit:
        retry = max(1, 60 - int(now % 60))
        raise ApiProblem(
            429,
            "te-veel-verzoeken",
            f"Te veel verzoeken met dit API-token: hoogstens {limit} per minuut. "
            f"Probeer het over {retry} seconden opnieuw.",
            headers={"Retry-After": str(retry)},
        )


def record_call(response) -> None:
    """Every API call in the audit trail (also refused ones), with the token's last use."""
    sm = current_app.extensions["db_sessionmaker"]
    token_id = g.get("api_token_id")
    with sm() as session:
        audit.record(
            session,
            "api.aanroep",
            user_id=None,
            object_type="api_token",
            object_id=token_id,
            client_id=g.get("api_client_id"),
            detail={
                "methode": request.method,
                "pad": request.path,
                "status": response.status_code,
                "koppeling_id": g.get("api_koppeling_id"),
            },
            ip=request.remote_addr,
        )
        if token_id is not None and response.status_code != 401:
            api_tokens.touch(session, token_id)
        session.commit()
