"""The export pipeline's reads: a project's task rows in batches, one read ahead.

Each batch is read in its own short read transaction (`Database.read()`), so
no transaction stays open for the length of an export. While a batch is
consumed (sent to the process that formats it), the database already runs
the next batch's queries.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from server.vocabulary import ReviewStatus, TaskStatus
from storage.database import Database
from storage.export_records import ExportTaskRows
from storage.export_tasks import DEFAULT_BATCH_SIZE, read_export_task_rows


async def iter_export_task_rows(
    database: Database,
    *,
    project_id: str,
    completed_only: bool,
    with_predictions: bool = True,
    accepted_only: bool = False,
    ground_truth_only: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> AsyncGenerator[ExportTaskRows, None]:
    """Yield the project's task rows in id order, `batch_size` tasks at a time (only the
    completed ones when `completed_only`, those with an accepted annotation when
    `accepted_only`, the ground-truth ones when `ground_truth_only`; without
    their predictions unless `with_predictions`)."""
    task_status = TaskStatus.COMPLETED if completed_only else None
    review_status = ReviewStatus.ACCEPTED if accepted_only else None

    async def read_batch(after_id: int) -> ExportTaskRows:
        async with database.read() as conn:
            return await read_export_task_rows(
                conn,
                project_id=project_id,
                after_id=after_id,
                limit=batch_size,
                task_status=task_status,
                with_predictions=with_predictions,
                review_status=review_status,
                ground_truth_only=ground_truth_only,
            )

    reading = asyncio.ensure_future(read_batch(0))
    try:
        while True:
            rows = await reading
            last_id = rows.last_task_id
            if last_id is None:
                return
            complete = len(rows.tasks) < batch_size
            if not complete:
                reading = asyncio.ensure_future(read_batch(last_id))
            yield rows
            del rows  # the consumer may hold it; this frame need not
            if complete:
                return
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
