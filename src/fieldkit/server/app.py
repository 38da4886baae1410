"""The HTTP side of sync: routes, error answers, streaming the upload into the importer.

Every answer is JSON (the card and the receipt are JSON documents too). Errors are
``{"error": {"code", "message", "params"}}`` with the message in the server's language; the
client shows its own translation from the code and the parameters. The log says which device
sent which bundle and what became of it, in counts: never record content, never addresses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fieldkit import i18n
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import sync_protocol as proto
from fieldkit.services.sync_inbox import ClientGone, Device, Inbox

log = logging.getLogger("fieldkit.sync")

STATUS = {
    ErrorCode.SYNC_AUTH_FAILED: 401,
    ErrorCode.SYNC_RATE_LIMITED: 429,
    ErrorCode.SYNC_UPLOAD_BUSY: 409,
    ErrorCode.SYNC_SERVER_BUSY: 503,
    ErrorCode.SYNC_UPLOAD_TOO_LARGE: 413,
    ErrorCode.SYNC_UPLOAD_MISMATCH: 409,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID_ARGUMENT: 400,
}
RETRY_AFTER = {ErrorCode.SYNC_RATE_LIMITED, ErrorCode.SYNC_SERVER_BUSY}
Handler = Callable[[Request], Awaitable[Response]]


def error_response(exc: FieldkitError) -> JSONResponse:
    status = STATUS.get(exc.code, 422)
    headers = {}
    if exc.code in RETRY_AFTER:
        headers["Retry-After"] = str(exc.params.get("seconds", 5))
    return JSONResponse({"error": exc.to_dict(i18n.current())}, status_code=status, headers=headers)


def _bad_request(detail: str) -> FieldkitError:
    return FieldkitError(ErrorCode.INVALID_ARGUMENT, detail=detail)


def build_app(inbox: Inbox, idle_timeout: float | None = None) -> Starlette:
    idle = idle_timeout if idle_timeout is not None else inbox.limits.idle_timeout

    def guarded(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except FieldkitError as exc:
                log.info("refused %s %s: %s", request.method, request.url.path, exc.code.value)
                return error_response(exc)
            except Exception as exc:  # never the text: it might quote something received
                log.error("internal error (%s) on %s", type(exc).__name__, request.url.path)
                if os.environ.get("FIELDKIT_DEBUG") == "1":
                    log.exception("details (FIELDKIT_DEBUG=1)")
                return JSONResponse({"error": {"code": "internal"}}, status_code=500)

        return run

    async def device_of(request: Request) -> Device:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        header = request.headers.get("authorization")
        return await anyio.to_thread.run_sync(inbox.authenticate, header, request.method, target)

    def bundle_id_of(request: Request) -> str:
        bundle_id = str(request.path_params["bundle_id"])
        if not proto.BUNDLE_ID.fullmatch(bundle_id):
            raise _bad_request("bundle id")
        return bundle_id

    def announced(request: Request) -> tuple[int | None, str | None]:
        size_text = request.headers.get(proto.SIZE_HEADER)
        sha = request.headers.get(proto.SHA256_HEADER)
        size: int | None = None
        if size_text is not None:
            if not size_text.isdigit() or len(size_text) > 16:
                raise _bad_request(proto.SIZE_HEADER)
            size = int(size_text)
        if sha is not None and not proto.SHA256.fullmatch(sha):
            raise _bad_request(proto.SHA256_HEADER)
        return size, sha

    async def challenge(request: Request) -> Response:
        address = request.client.host if request.client else "?"
        value = inbox.new_challenge(address)
        return JSONResponse({"protocol": proto.PROTOCOL, "challenge": value, "expires_in": 600})

    async def card(request: Request) -> Response:
        # signed like the rest: someone who merely finds the port learns no organisation's name
        await device_of(request)
        data = await anyio.to_thread.run_sync(inbox.card)
        if data is None:
            raise FieldkitError(ErrorCode.NOT_FOUND, what="card")
        return Response(data, media_type=proto.JSON_TYPE)

    async def receipt(request: Request) -> Response:
        device = await device_of(request)
        doc = await anyio.to_thread.run_sync(inbox.receipt, device)
        if doc is None:
            raise FieldkitError(ErrorCode.NOT_FOUND, what="receipt")
        return JSONResponse(doc)

    async def bundle_status(request: Request) -> Response:
        device = await device_of(request)
        bundle_id = bundle_id_of(request)
        size, sha = announced(request)
        state = await anyio.to_thread.run_sync(inbox.status, device, bundle_id, size, sha)
        return JSONResponse(state)

    async def bundle_put(request: Request) -> Response:
        device = await device_of(request)
        bundle_id = bundle_id_of(request)
        size, sha = announced(request)
        offset_text = request.query_params.get("offset", "0")
        if size is None or sha is None or not offset_text.isdigit() or len(offset_text) > 16:
            raise _bad_request("offset, size or SHA-256")
        upload = await anyio.to_thread.run_sync(
            inbox.begin, device, bundle_id, int(offset_text), size, sha
        )
        body: AsyncIterator[bytes] = request.stream().__aiter__()

        async def next_chunk() -> bytes | None:
            try:
                with anyio.fail_after(idle):
                    return await body.__anext__()
            except StopAsyncIteration:
                return None
            except (TimeoutError, ClientDisconnect):
                raise ClientGone() from None

        def pull() -> bytes | None:
            while True:
                chunk = anyio.from_thread.run(next_chunk)
                if chunk is None or chunk:
                    return chunk

        try:
            result = await anyio.to_thread.run_sync(upload.run, pull)
        except ClientGone:
            log.info(
                "bundle %s from %s: the sender stopped; kept for resuming", bundle_id, device.label
            )
            return JSONResponse(
                {"error": {"code": "incomplete"}}, status_code=400, headers={"Connection": "close"}
            )
        except FieldkitError as exc:
            if exc.code == ErrorCode.SYNC_SERVER_BUSY:
                log.info(
                    "bundle %s from %s: kept whole; another import still runs, asked to come back",
                    bundle_id,
                    device.label,
                )
            else:
                inbox.remember_refusal(bundle_id, exc)
                log.info("bundle %s from %s: refused (%s)", bundle_id, device.label, exc.code.value)
            response = error_response(exc)
            response.headers["Connection"] = "close"
            return response
        report = result.report
        log.info(
            "bundle %s from %s: %s, %d records, %d files%s",
            bundle_id,
            device.label,
            report.status,
            report.records,
            report.objects,
            f", resumed at byte {result.resumed_from}" if result.resumed_from else "",
        )
        payload: dict[str, Any] = {
            "state": "imported",
            "status": report.status,
            "resumed_from": result.resumed_from,
            "report": {
                "bundle_id": report.bundle_id,
                "seq": report.seq,
                "records": report.records,
                "records_new": report.records_new,
                "objects": report.objects,
                "conflicts": len(report.conflicts),
            },
            "receipt": result.receipt,
        }
        return JSONResponse(payload)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(FieldkitError(ErrorCode.NOT_FOUND, what=request.url.path[:100]))

    routes = [
        Route(proto.CHALLENGE_PATH, guarded(challenge), methods=["GET"]),
        Route(proto.CARD_PATH, guarded(card), methods=["GET"]),
        Route(proto.RECEIPT_PATH, guarded(receipt), methods=["GET"]),
        Route(proto.BUNDLE_PATH, guarded(bundle_status), methods=["GET"]),
        Route(proto.BUNDLE_PATH, guarded(bundle_put), methods=["PUT"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
