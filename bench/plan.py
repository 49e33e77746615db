"""What a bench size measures."""

from __future__ import annotations

from dataclasses import dataclass

EXPORT_FORMATS = ("json", "csv", "coco", "yolo")
# COCO with consensus, of a project where two annotators answered every task.
CONSENSUS_EXPORT = "coco_consensus"
IMPORT_FORMATS = ("aap_json", "coco")


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    init_sizes: tuple[int, ...]
    # The progress project is created by an (untimed) gRPC init of this size.
    progress_tasks: int
    progress_calls: int  # sequential calls per transport and run
    throughput_calls: int  # calls per transport and run, `in_flight` at a time
    in_flight: int
    export_sizes: tuple[int, ...]
    # A fresh server per export format (honest memory figures) or one per size (quicker).
    server_per_export_format: bool
    import_predictions: int
    # AAP files of these many predictions, imported once each: server RSS growth and time
    # against the file's size.
    import_memory_sizes: tuple[int, ...]
    # The annotation loop: a project of loop_tasks split between loop_annotators;
    # loop_calls NextTask/GetTask/Submit cycles per run.
    loop_tasks: int
    loop_annotators: int
    loop_calls: int
    # Cheap calls: a project of calls_tasks split between 9 annotators; calls_per_kind
    # calls per CPU figure; calls_throughput workflow calls per throughput figure.
    calls_tasks: int
    calls_per_kind: int
    calls_throughput: int
    # Annotation import: a Label Studio export of this many annotated tasks (one rectangle
    # each), imported into a fresh project of as many tasks per run.
    annotation_import: int
    # Live progress: this many watchers of one project per transport while 8 clients
    # submit watch_submits tasks each.
    watchers: int
    watch_submits: int


PLANS: dict[str, Plan] = {
    "full": Plan(
        name="full",
        init_sizes=(10_000, 100_000, 1_000_000),
        progress_tasks=1_000_000,
        progress_calls=1_000,
        throughput_calls=2_000,
        in_flight=50,
        export_sizes=(100_000, 1_000_000),
        server_per_export_format=True,
        import_predictions=100_000,
        import_memory_sizes=(100_000, 1_000_000),
        loop_tasks=1_000_000,
        loop_annotators=100,
        loop_calls=1_000,
        calls_tasks=100_000,
        calls_per_kind=500,
        calls_throughput=4_000,
        annotation_import=100_000,
        watchers=1_000,
        watch_submits=25,
    ),
    "smoke": Plan(
        name="smoke",
        init_sizes=(200,),
        progress_tasks=400,
        progress_calls=30,
        throughput_calls=100,
        in_flight=50,
        export_sizes=(200,),
        server_per_export_format=False,
        import_predictions=200,
        import_memory_sizes=(200, 400),
        loop_tasks=400,
        loop_annotators=4,
        loop_calls=20,
        calls_tasks=2_000,  # enough queue for the default 3 runs of every calls figure
        calls_per_kind=20,
        calls_throughput=80,
        annotation_import=200,
        watchers=20,
        watch_submits=5,
    ),
}
