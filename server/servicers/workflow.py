"""WorkflowService over gRPC."""

from __future__ import annotations

from annotation.v1 import workflow_service_pb2_grpc

from annotation_api.settings import Settings
from storage.database import Database


class WorkflowServicer(workflow_service_pb2_grpc.WorkflowServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database
