"""grpcurl, the tool engineers debug with, describes every service, method and
message the server serves, over reflection v1 and v1alpha."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
from annotation.v1 import (
    annotation_service_pb2,
    export_service_pb2,
    prediction_service_pb2,
    project_service_pb2,
    webhook_service_pb2,
    workflow_service_pb2,
)
from grpc_health.v1 import health_pb2

from server.app import RunningServer
from tests.helpers import WAIT_SECONDS

GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
FILES = [
    project_service_pb2,
    workflow_service_pb2,
    export_service_pb2,
    prediction_service_pb2,
    annotation_service_pb2,
    webhook_service_pb2,
    health_pb2,
]


async def grpcurl(port: int, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        GRPCURL,
        "-plaintext",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=WAIT_SECONDS)
    return process.returncode or 0, output.decode()


async def run_grpcurl(port: int, *args: str) -> str:
    code, output = await grpcurl(port, *args)
    assert code == 0, (args, output)
    return output


def served_symbols() -> list[str]:
    symbols = []
    for module in FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            symbols.append(service.full_name)
            for method in service.methods:
                symbols += [method.full_name, method.input_type.full_name]
                symbols.append(method.output_type.full_name)
    return sorted(set(symbols))


@pytest.mark.slow
@pytest.mark.skipif(not Path(GRPCURL).exists(), reason="the grpcurl binary is not installed")
async def test_grpcurl_lists_and_describes_every_service_method_and_message(
    grpc_server: RunningServer,
) -> None:
    address = f"127.0.0.1:{grpc_server.port}"
    listed = (await run_grpcurl(grpc_server.port, address, "list")).split()
    assert "grpc.health.v1.Health" in listed
    assert {
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= set(listed)
    symbols = served_symbols()
    assert "grpc.health.v1.Health.Check" in symbols
    for symbol in [*symbols, "grpc.reflection.v1.ServerReflection.ServerReflectionInfo"]:
        output = await run_grpcurl(grpc_server.port, address, "describe", symbol)
        assert symbol.rsplit(".", 1)[-1] in output, (symbol, output)
    # an unknown symbol is still an error
    code, output = await grpcurl(
        grpc_server.port, address, "describe", "grpc.health.v1.Health.Nope"
    )
    assert code != 0
