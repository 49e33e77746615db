"""ProjectService over gRPC."""

from __future__ import annotations

from annotation.v1 import project_service_pb2_grpc

from annotation_api.settings import Settings
from storage.database import Database


class ProjectServicer(project_service_pb2_grpc.ProjectServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database
