"""HTTP layer of the Cleanmail API v3 emulator, served under ``/cleanmail`` (set ``mailinfra:cleanmailUrl`` to
``<emulator URL>/cleanmail``): the documented paths, ``Authorization: Bearer <token>`` (401 without or with a
wrong token), ``201 Created`` with ``Location``, ``204 No Content`` for PATCH / DELETE / PUT of aliases,
lists with ``X-Total-Count``. Errors are a JSON body ``{"status", "error", "message"}`` with the status the
backend raised (the docs give no error body; this is the usual shape of a Java API's errors)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..routing import error_route, on_loop
from .backend import CleanmailBackend, CleanmailError, NotFound
from .mailbox_http import add_mailbox_routes
from .web import json_body, listing

PREFIX = "/cleanmail"


class Unauthorized(CleanmailError):
    status, error = 401, "Unauthorized"


class Forbidden(CleanmailError):
    status, error = 403, "Forbidden"


def error_response(exc: CleanmailError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="Cleanmail"'} if exc.status == 401 else None
    return JSONResponse({"status": exc.status, "error": exc.error, "message": exc.message}, status_code=exc.status,
                        headers=headers)


# Backend exceptions (also those raised by dependencies) become the error body.
CleanmailRoute = error_route((CleanmailError,), error_response)


def bearer_auth(tokens: Iterable[str], backend: CleanmailBackend | None = None) -> Callable[[Request], None]:
    """A dependency accepting only `Authorization: Bearer <one of tokens>`, compared in constant time, or a live
    personal token made through the API (`backend`). A token written `<token>:readonly` stands for an account
    without write permissions: 403 on anything but GET."""
    accepted = [(t.removesuffix(":readonly").encode(), t.endswith(":readonly")) for t in tokens]

    async def check(request: Request) -> None:  # async: no worker-thread hop
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        given = value.strip().encode()
        if scheme.lower() != "bearer" or not given:
            raise Unauthorized("authentication required (Bearer token)")
        matches = [readonly for token, readonly in accepted if secrets.compare_digest(given, token)]
        if not matches and backend is not None and backend.token_is_valid(given.decode(errors="replace")):
            matches = [False]  # a personal token created through the API, still live
        if not matches:
            raise Unauthorized("invalid or expired token")
        if matches[0] and request.method != "GET":
            raise Forbidden("You do not have permission to execute this request.")

    return check


def cleanmail_router(backend: CleanmailBackend, *, tokens: Iterable[str] = ("cleanmail-token",),
                     prefix: str = PREFIX) -> APIRouter:
    router = APIRouter(prefix=prefix, route_class=CleanmailRoute, dependencies=[Depends(bearer_auth(tokens, backend))])

    def location(request: Request, path: str) -> dict[str, str]:
        return {"Location": f"{str(request.base_url).rstrip('/')}{prefix}{path}",
                "Access-Control-Expose-Headers": "Content-Location"}

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        return on_loop(fn, *args)

    @router.post("/domains")
    async def create_domain(request: Request) -> JSONResponse:
        domain = await call(backend.create_domain, await json_body(request))
        return JSONResponse(domain, status_code=201, headers=location(request, f"/domains/{domain['id']}"))

    @router.get("/domains")
    async def list_domains(request: Request) -> JSONResponse:
        return listing(*await call(backend.list_domains, dict(request.query_params)))

    @router.get("/domains/{domain_id}")
    async def get_domain(domain_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_domain, domain_id))

    @router.patch("/domains/{domain_id}")
    async def patch_domain(domain_id: str, request: Request) -> Response:
        await call(backend.patch_domain, domain_id, await json_body(request))
        return Response(status_code=204)

    @router.delete("/domains/{domain_id}")
    async def delete_domain(domain_id: str) -> Response:
        await call(backend.delete_domain, domain_id)
        return Response(status_code=204)

    @router.post("/domains/{domain_id}/policies")
    async def create_policy(domain_id: str, request: Request) -> JSONResponse:
        policy = await call(backend.create_policy, domain_id, await json_body(request))
        return JSONResponse(policy, status_code=201, headers=location(request, f"/policies/{policy['id']}"))

    @router.get("/domains/{domain_id}/policies")
    async def list_policies(domain_id: str, request: Request) -> JSONResponse:
        return listing(*await call(backend.list_policies, domain_id, dict(request.query_params)))

    @router.get("/policies/{policy_id}")
    async def get_policy(policy_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_policy, policy_id))

    @router.patch("/policies/{policy_id}")
    async def patch_policy(policy_id: str, request: Request) -> Response:
        await call(backend.patch_policy, policy_id, await json_body(request))
        return Response(status_code=204)

    @router.delete("/policies/{policy_id}")
    async def delete_policy(policy_id: str) -> Response:
        await call(backend.delete_policy, policy_id)
        return Response(status_code=204)

    @router.post("/domains/{domain_id}/aliases")
    async def add_aliases(domain_id: str, request: Request) -> JSONResponse:
        added = await call(backend.add_aliases, domain_id, await json_body(request))
        return JSONResponse(added, status_code=201, headers=location(request, f"/domains/{domain_id}/aliases"))

    @router.get("/domains/{domain_id}/aliases")
    async def list_aliases(domain_id: str, request: Request) -> JSONResponse:
        return listing(*await call(backend.list_aliases, domain_id, dict(request.query_params)))

    @router.put("/domains/{domain_id}/aliases")
    async def replace_aliases(domain_id: str, request: Request) -> Response:
        await call(backend.replace_aliases, domain_id, await json_body(request))
        return Response(status_code=204)

    @router.delete("/domains/{domain_id}/aliases/{alias_id}")
    async def delete_alias(domain_id: str, alias_id: str) -> Response:
        await call(backend.delete_alias, domain_id, alias_id)
        return Response(status_code=204)

    @router.post("/domains/{domain_id}/dkim")
    async def add_dkim(domain_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.add_dkim, domain_id, await json_body(request)), status_code=201)

    @router.get("/domains/{domain_id}/dkim")
    async def get_dkim(domain_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_dkim, domain_id))

    @router.put("/domains/{domain_id}/dkim")
    async def put_dkim(domain_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.put_dkim, domain_id, await json_body(request)))

    @router.delete("/domains/{domain_id}/dkim")
    async def delete_dkim(domain_id: str) -> Response:
        await call(backend.delete_dkim, domain_id)
        return Response(status_code=204)

    @router.post("/users")
    async def create_user(request: Request) -> JSONResponse:
        user = await call(backend.create_user, await json_body(request))
        return JSONResponse(user, status_code=201, headers=location(request, f"/users/{user['id']}"))

    @router.get("/users")
    async def list_all_users(request: Request) -> JSONResponse:
        return listing(*await call(backend.list_users, None, dict(request.query_params)))

    @router.get("/domains/{domain_id}/users")
    async def list_users(domain_id: str, request: Request) -> JSONResponse:
        return listing(*await call(backend.list_users, domain_id, dict(request.query_params)))

    @router.get("/users/{user_id}")
    async def get_user(user_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_user, user_id))

    @router.patch("/users/{user_id}")
    async def patch_user(user_id: str, request: Request) -> Response:
        await call(backend.patch_user, user_id, await json_body(request))
        return Response(status_code=204)

    @router.delete("/users/{user_id}")
    async def delete_user(user_id: str) -> Response:
        await call(backend.delete_user, user_id)
        return Response(status_code=204)

    @router.get("/users/{user_id}/sign")
    async def get_sign(user_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_sign, user_id))

    @router.put("/users/{user_id}/sign")
    async def put_sign(user_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.put_sign, user_id, await json_body(request)))

    @router.delete("/users/{user_id}/sign")
    async def delete_sign(user_id: str) -> Response:
        await call(backend.delete_sign, user_id)
        return Response(status_code=204)

    @router.post("/domains/{domain_id}/groups")
    async def create_group(domain_id: str, request: Request) -> JSONResponse:
        group = await call(backend.create_group, domain_id, await json_body(request))
        return JSONResponse(group, status_code=201,
                            headers=location(request, f"/domains/{domain_id}/groups/{group['id']}"))

    @router.get("/domains/{domain_id}/groups")
    async def list_groups(domain_id: str, request: Request) -> JSONResponse:
        return listing(*await call(backend.list_groups, domain_id, dict(request.query_params)))

    @router.get("/domains/{domain_id}/groups/{group_id}")
    async def get_group(domain_id: str, group_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_group, domain_id, group_id))

    @router.patch("/domains/{domain_id}/groups/{group_id}")
    async def patch_group(domain_id: str, group_id: str, request: Request) -> Response:
        await call(backend.patch_group, domain_id, group_id, await json_body(request))
        return Response(status_code=204)

    @router.delete("/groups/{group_id}")
    async def delete_group(group_id: str) -> Response:
        await call(backend.delete_group, group_id)
        return Response(status_code=204)

    @router.post("/domains/{domain_id}/groups/{group_id}/addresses")
    async def add_group_addresses(domain_id: str, group_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.add_group_addresses, domain_id, group_id, await json_body(request)),
                            status_code=201)

    @router.delete("/domains/{domain_id}/groups/{group_id}/addresses/{address_id}")
    async def delete_group_address(domain_id: str, group_id: str, address_id: str) -> Response:
        await call(backend.delete_group_address, domain_id, group_id, address_id)
        return Response(status_code=204)

    @router.post("/domains/{domain_id}/health")
    async def run_domain_health(domain_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.run_domain_health, domain_id), status_code=201)

    @router.get("/domains/{domain_id}/health")
    async def get_domain_health(domain_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_health, "domain", domain_id))

    @router.post("/platforms/{platform_id}/health")
    async def run_platform_health(platform_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.run_platform_health, platform_id), status_code=201)

    @router.get("/platforms/{platform_id}/health")
    async def get_platform_health(platform_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_health, "platform", platform_id))

    @router.get("/health")
    async def health_errors() -> JSONResponse:
        return JSONResponse(await call(backend.health_errors))

    @router.post("/health/try-relay")
    async def try_relay(request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.try_relay, await json_body(request)))

    for kind, segment in (("attachment", "attachments"), ("uri", "uris")):
        def filter_routes(kind: str = kind, segment: str = segment) -> None:
            @router.post(f"/domains/{{domain_id}}/filters/{segment}", name=f"add_{kind}_filter")
            async def add_filter(domain_id: str, request: Request) -> JSONResponse:
                rule = await call(backend.add_filter, kind, domain_id, await json_body(request))
                return JSONResponse(rule, status_code=201,  # the docs' Location names the collection
                                    headers=location(request, f"/domains/{domain_id}/filters/{segment}"))

            @router.get(f"/domains/{{domain_id}}/filters/{segment}", name=f"list_{kind}_filters")
            async def list_filters(domain_id: str, request: Request) -> JSONResponse:
                return listing(*await call(backend.list_filters, kind, domain_id, dict(request.query_params)))

            @router.patch(f"/filters/{segment}/{{filter_id}}", name=f"patch_{kind}_filter")
            async def patch_filter(filter_id: str, request: Request) -> Response:
                await call(backend.patch_filter, kind, filter_id, await json_body(request))
                return Response(status_code=204)

            @router.delete(f"/filters/{segment}/{{filter_id}}", name=f"delete_{kind}_filter")
            async def delete_filter(filter_id: str) -> Response:
                await call(backend.delete_filter, kind, filter_id)
                return Response(status_code=204)

        filter_routes()

    @router.post("/domains/{domain_id}/admins")
    async def create_domain_admin(domain_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.create_domain_admin, domain_id, await json_body(request)))

    @router.get("/domains/{domain_id}/admins")
    async def list_domain_admins(domain_id: str, request: Request) -> JSONResponse:
        return listing(*await call(backend.list_domain_admins, domain_id, dict(request.query_params)))

    @router.get("/domains/{domain_id}/admins/{admin_id}")
    async def get_domain_admin(domain_id: str, admin_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_domain_admin, domain_id, admin_id))

    @router.put("/domains/{domain_id}/admins/{admin_id}/authorities")
    async def set_authorities(domain_id: str, admin_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.set_domain_authorities, domain_id, admin_id, await json_body(request)))

    @router.delete("/domains/{domain_id}/admins/{admin_id}")
    async def revoke_domain_admin(domain_id: str, admin_id: str) -> JSONResponse:
        await call(backend.revoke_domain_admin, domain_id, admin_id)
        return JSONResponse([])

    @router.get("/security/admins")
    async def list_admins(request: Request) -> JSONResponse:
        return listing(*await call(backend.list_admins, dict(request.query_params)))

    @router.get("/security/admins/{admin_id}")
    async def get_admin(admin_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.get_admin, admin_id))

    @router.patch("/security/admins/{admin_id}")
    async def patch_admin(admin_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.patch_admin, admin_id, await json_body(request)))

    @router.delete("/security/admins/{admin_id}")
    async def delete_admin(admin_id: str) -> JSONResponse:
        await call(backend.delete_admin, admin_id)
        return JSONResponse([])

    @router.post("/admins/{admin_id}/tokens")
    async def create_token(admin_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.create_token, admin_id, await json_body(request)), status_code=201)

    @router.get("/admins/{admin_id}/tokens")
    async def list_tokens(admin_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.list_tokens, admin_id))

    @router.delete("/admins/{admin_id}/tokens/{token_id}")
    async def delete_token(admin_id: str, token_id: str) -> Response:
        await call(backend.delete_token, admin_id, token_id)
        return Response(status_code=204)

    @router.get("/security/permissions")
    async def permissions(request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.permissions, dict(request.query_params)))

    @router.get("/domains/{domain_id}/access")
    async def users_access(domain_id: str) -> JSONResponse:
        return JSONResponse(await call(backend.users_access, domain_id))

    @router.put("/domains/{domain_id}/access")
    async def set_users_access(domain_id: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.set_users_access, domain_id, await json_body(request)))

    @router.post("/tasks")
    async def run_task(request: Request) -> Response:
        await call(backend.run_task, await json_body(request))
        return Response(status_code=202)

    @router.get("/token")
    async def temporary_token(request: Request) -> JSONResponse:
        app_url = f"{str(request.base_url).rstrip('/')}{prefix}/app"
        return JSONResponse(await call(backend.temporary_token, dict(request.query_params), app_url), status_code=202)

    @router.post("/wblist")
    async def bulk_add_rules(request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.bulk_add_rules, await json_body(request)), status_code=201)

    for owner_kind, owners in (("domain", "/domains"), ("user", "/users")):
        def sender_rule_routes(owner_kind: str = owner_kind, owners: str = owners) -> None:
            @router.post(f"{owners}/{{owner_id}}/wblist", name=f"add_{owner_kind}_rules")
            async def add_rules(owner_id: str, request: Request) -> JSONResponse:
                made = await call(backend.add_rules, owner_kind, owner_id, await json_body(request))
                return JSONResponse(made, status_code=201, headers=location(request, f"{owners}/{owner_id}/wblist"))

            @router.get(f"{owners}/{{owner_id}}/wblist", name=f"list_{owner_kind}_rules")
            async def list_rules(owner_id: str, request: Request) -> JSONResponse:
                return listing(*await call(backend.list_rules, owner_kind, owner_id, dict(request.query_params)))

            @router.put(f"{owners}/{{owner_id}}/wblist", name=f"set_{owner_kind}_rules")
            async def set_rules(owner_id: str, request: Request) -> JSONResponse:
                return JSONResponse(await call(backend.set_rules, owner_kind, owner_id, await json_body(request)))

            @router.put(f"{owners}/{{owner_id}}/wblist/{{rule_id}}", name=f"replace_{owner_kind}_rule")
            async def replace_rule(owner_id: str, rule_id: str, request: Request) -> JSONResponse:
                return JSONResponse(await call(backend.replace_rule, owner_kind, owner_id, rule_id,
                                               await json_body(request)))

            @router.delete(f"{owners}/{{owner_id}}/wblist/{{rule_id}}", name=f"delete_{owner_kind}_rule")
            async def delete_rule(owner_id: str, rule_id: str) -> Response:
                await call(backend.delete_rule, owner_kind, owner_id, rule_id)
                return Response(status_code=204)

        sender_rule_routes()

    for scope, collection in (("domain", "/domains"), ("user", "/users")):
        def options_routes(scope: str = scope, collection: str = collection) -> None:
            @router.get(f"{collection}/{{owner_id}}/options", name=f"list_{scope}_options")
            async def list_options(owner_id: str) -> JSONResponse:
                return listing(*await call(backend.list_options, scope, owner_id))

            @router.post(f"{collection}/{{owner_id}}/options", name=f"set_{scope}_option")
            async def set_option(owner_id: str, request: Request) -> JSONResponse:
                return JSONResponse(await call(backend.set_option, scope, owner_id, await json_body(request)),
                                    status_code=201)

            @router.delete(f"{collection}/{{owner_id}}/options/{{name}}", name=f"delete_{scope}_option")
            async def delete_option(owner_id: str, name: str) -> Response:
                await call(backend.delete_option, scope, owner_id, name)
                return Response(status_code=204)

        options_routes()

    add_mailbox_routes(router, backend, call)

    async def unknown(request: Request) -> None:
        raise NotFound(f"no such endpoint: {request.method} {request.url.path}")

    router.add_api_route("/{path:path}", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                         name="cleanmail_unknown")
    return router


def cleanmail_admin_router(backend: CleanmailBackend) -> APIRouter:
    """``/_emulator/cleanmail``: what the platform was asked to do (the tasks it accepted; no mail is sent)."""
    router = APIRouter(prefix="/_emulator/cleanmail")

    @router.get("/tasks")
    def accepted_tasks() -> list[dict[str, Any]]:
        return backend.tasks()

    return router
