"""AccessService over gRPC: may the caller call a given RPC?"""

from __future__ import annotations

from annotation.v1 import access_service_pb2, access_service_pb2_grpc
from grpc import aio

from annotation_api.settings import Settings
from server.access import authorize
from server.auth import Authenticator, bearer_token
from storage.database import Database


class AccessServicer(access_service_pb2_grpc.AccessServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._authenticator = Authenticator(database, cache_seconds=settings.auth_cache_seconds)

    async def CheckAccess(
        self, request: access_service_pb2.CheckAccessRequest, context: aio.ServicerContext
    ) -> access_service_pb2.CheckAccessResponse:
        # The interceptor leaves this method to us: the decision is about
        # request.method, and it is the same one the interceptor makes when
        # that method is called.
        token = bearer_token(context.invocation_metadata())
        await authorize(self._authenticator, token, request.method)
        return access_service_pb2.CheckAccessResponse()
