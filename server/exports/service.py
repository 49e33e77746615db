"""The export rules: what may be exported, how the file is produced, who may
see it, and how long it lives.

An export is produced while CreateExport waits (its response carries the
count and size), streaming batches of tasks from storage into a format
writer. The export row is written `running` first, with a lease this process
renews while it writes (server/exports/lease.py), then completed or failed in
one transaction with its callback outbox row and its audit entry
(server/exports/outcomes.py). One task never fails an export: a task a format
cannot write whole is written as well as the format allows and named in the
export's warnings (server/exports/formats/warnings.py). A refusal of the
request found while writing removes the row and the file: nothing was
exported, so there is nothing to call back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.gc_pause import cyclic_gc_paused
from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.access import check_export, check_project
from server.auth import Caller
from server.exports.batches import iter_export_task_rows
from server.exports.files import (
    expire_export,
    export_file,
    partial_file,
    remove_export_files,
    scratch_dir,
)
from server.exports.format_process import write_in_worker
from server.exports.format_worker import Finished
from server.exports.formats.base import ExportContext
from server.exports.formats.registry import FORMATS, ExportFormatSpec, formats_for
from server.exports.lease import PROCESS_LEASE_OWNER, holding_lease, new_lease
from server.exports.lifecycle import EXPORT_INITIAL, has_file, is_past_expiry
from server.exports.outcomes import end_export
from server.exports.targets import validate_callback_url
from storage.database import Database
from storage.export_records import ExportWarning
from storage.export_tasks import ExportProject, load_annotator_agreement, load_export_project
from storage.exports import ExportRecord, NewExport, delete_export, get_export, insert_export
from storage.ids import new_export_id
from storage.types import utcnow

log = logging.getLogger(__name__)

DEFAULT_FORMAT = "json"


@dataclass(frozen=True, slots=True)
class Download:
    """An export file opened for streaming."""

    file_name: str
    content_type: str
    file_size: int
    chunks: AsyncIterator[bytes]


def list_export_formats() -> list[ExportFormatSpec]:
    return list(FORMATS.values())


class ExportService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database

    async def create_export(
        self,
        caller: Caller,
        *,
        project_id: str,
        format_name: str | None,
        completed_only: bool | None,
        callback_url: str | None,
        accepted_only: bool = False,
        ground_truth_only: bool = False,
        consensus: bool = False,
    ) -> ExportRecord:
        project = await self._visible_project(caller, project_id)
        spec = self._format_for(format_name or DEFAULT_FORMAT, project.task_type)
        callback = validate_callback_url(
            callback_url, require_https=self._settings.https_targets_only
        )
        only_completed = True if completed_only is None else completed_only
        now = utcnow()
        export_id = new_export_id()
        new = NewExport(
            export_id=export_id,
            project_id=project.project_id,
            format=spec.name,
            completed_only=only_completed,
            file_name=f"export_{project.project_id}_{spec.name}_{now:%Y%m%d}.{spec.extension}",
            storage_path=f"{export_id}.{spec.extension}",
            content_type=spec.content_type,
            callback_url=callback,
            created_by=caller.user_id,
            created_at=now,
            expires_at=now + timedelta(hours=self._settings.export_ttl_hours),
            accepted_only=accepted_only,
            ground_truth_only=ground_truth_only,
            consensus=consensus,
        )
        async with self._database.transaction() as conn:
            await insert_export(
                conn, new=new, status=EXPORT_INITIAL, lease=new_lease(self._settings, now=now)
            )
        try:
            async with holding_lease(self._settings, self._database, export_id):
                finished, size = await self._write_file(spec, project, new)
        except DomainError as error:
            if error.code is not ErrorCode.INVALID_REQUEST:
                raise await self._fail(new, caller, error) from error
            async with self._database.transaction() as conn:
                await delete_export(conn, export_id=export_id)
            raise
        except asyncio.CancelledError:
            await asyncio.shield(self._record_failure(new, caller, "export was cancelled"))
            raise
        except Exception as error:
            raise await self._fail(new, caller, error) from error
        record = await self._end(
            new,
            caller,
            status=ExportStatus.COMPLETED,
            total=finished.exported,
            size=size,
            warnings=finished.warnings,
        )
        if record is None:
            await asyncio.to_thread(
                remove_export_files, self._settings, export_id, new.storage_path
            )
            raise _lease_lost(export_id)
        return record

    async def get_export(self, caller: Caller, export_id: str) -> ExportRecord:
        record = await self._visible_export(caller, export_id)
        if is_past_expiry(record.status, record.expires_at, utcnow()):
            await expire_export(self._settings, self._database, record)
            record = await self._visible_export(caller, export_id)
        return record

    async def open_download(self, caller: Caller, export_id: str) -> Download:
        record = await self._visible_export(caller, export_id)
        if is_past_expiry(record.status, record.expires_at, utcnow()):
            await expire_export(self._settings, self._database, record)
            raise _expired(export_id)
        if record.status is ExportStatus.EXPIRED:
            raise _expired(export_id)
        if not has_file(record.status) or not record.storage_path:
            raise DomainError(
                ErrorCode.EXPORT_NOT_FOUND,
                f"export {export_id} has no file: it is {record.status}",
                {"export_id": export_id, "status": record.status},
            )
        path = export_file(self._settings, record.storage_path)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise DomainError(
                ErrorCode.EXPORT_NOT_FOUND,
                f"the file of export {export_id} is gone",
                {"export_id": export_id},
            ) from exc
        size = (await asyncio.to_thread(path.stat)).st_size
        return Download(
            record.file_name,
            record.content_type,
            size,
            _read_chunks(handle, self._settings.transfer_chunk_bytes),
        )

    async def _visible_project(self, caller: Caller, project_id: str) -> ExportProject:
        async with self._database.read() as conn:
            project = await load_export_project(conn, project_id=project_id)
        check_project(caller, project_id, project.owner_id if project else None)
        assert project is not None
        return project

    async def _visible_export(self, caller: Caller, export_id: str) -> ExportRecord:
        """The export, if its project is visible to the caller (else it does not exist)."""
        async with self._database.read() as conn:
            record = await get_export(conn, export_id=export_id)
            project = (
                await load_export_project(conn, project_id=record.project_id) if record else None
            )
        check_export(caller, export_id, project.owner_id if project else None)
        assert record is not None
        return record

    @staticmethod
    def _format_for(format_name: str, task_type: str) -> ExportFormatSpec:
        spec = FORMATS.get(format_name)
        if spec is None or task_type not in spec.task_types:
            raise DomainError(
                ErrorCode.INVALID_REQUEST,
                f"format {format_name} is not available for {task_type} projects",
                {
                    "format": format_name,
                    "task_type": task_type,
                    "supported": formats_for(task_type),
                },
            )
        return spec

    async def _write_file(
        self, spec: ExportFormatSpec, project: ExportProject, new: NewExport
    ) -> tuple[Finished, int]:
        """Write the file under a temporary name (in a worker process: the
        server reads while it formats), then move it into place."""
        final = export_file(self._settings, new.storage_path)
        partial = partial_file(final)
        scratch = scratch_dir(self._settings, new.export_id)
        await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
        weights: dict[str, float] = {}
        if new.consensus:
            async with self._database.read() as conn:
                weights = await load_annotator_agreement(conn, project_id=project.project_id)
        context = ExportContext(
            project_id=project.project_id,
            project_name=project.name,
            task_type=project.task_type,
            labels=project.labels,
            scratch_dir=scratch,
            created_at=new.created_at,
            consensus=new.consensus,
            iou_threshold=project.iou_threshold,
            weights=weights,
        )
        try:
            batches = iter_export_task_rows(
                self._database,
                project_id=project.project_id,
                completed_only=new.completed_only,
                with_predictions=spec.writer.uses_predictions,
                accepted_only=new.accepted_only,
                ground_truth_only=new.ground_truth_only,
            )
            # Every batch makes thousands of short-lived tuples (no cycles among
            # them); without the pause, collections would walk every live
            # object of the process again and again. Reference counting frees
            # them as usual. aclosing: a refusal or failure mid-way ends the
            # read-ahead at once.
            async with contextlib.aclosing(batches):
                with cyclic_gc_paused():
                    finished = await write_in_worker(
                        format_name=spec.name, context=context, path=partial, batches=batches
                    )
            await asyncio.to_thread(partial.replace, final)
            return finished, (await asyncio.to_thread(final.stat)).st_size
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def _fail(self, new: NewExport, caller: Caller, error: BaseException) -> DomainError:
        log.error("export failed", exc_info=error, extra={"export_id": new.export_id})
        # A domain error says what failed (e.g. which task); anything else only its type.
        reason = error.message if isinstance(error, DomainError) else type(error).__name__
        message = f"export failed: {reason}"
        await self._record_failure(new, caller, message)
        return DomainError(ErrorCode.EXPORT_FAILED, message, {"export_id": new.export_id})

    async def _record_failure(self, new: NewExport, caller: Caller, message: str) -> None:
        try:
            await self._end(new, caller, status=ExportStatus.FAILED, error=message)
        except DomainError:
            log.exception("could not record the failure", extra={"export_id": new.export_id})

    async def _end(
        self,
        new: NewExport,
        caller: Caller,
        *,
        status: ExportStatus,
        total: int = 0,
        size: int = 0,
        error: str | None = None,
        warnings: Sequence[ExportWarning] = (),
    ) -> ExportRecord | None:
        """End the export this process writes; None when its lease was taken away."""
        return await end_export(
            self._settings,
            self._database,
            new,
            status=status,
            actor_id=caller.user_id,
            total=total,
            size=size,
            error=error,
            warnings=warnings,
            lease_owner=PROCESS_LEASE_OWNER,
        )


def _lease_lost(export_id: str) -> DomainError:
    return DomainError(
        ErrorCode.EXPORT_FAILED,
        "export failed: it was taken over after its lease ran out",
        {"export_id": export_id},
    )


def _expired(export_id: str) -> DomainError:
    return DomainError(
        ErrorCode.EXPORT_EXPIRED, f"export {export_id} has expired", {"export_id": export_id}
    )


async def _read_chunks(handle: BinaryIO, chunk_bytes: int) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_bytes):
            yield chunk
    finally:
        handle.close()
