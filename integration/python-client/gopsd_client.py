"""An independent client of gopsd's gRPC API: Debian's python3-grpcio and python3-protobuf, with stubs that Debian's
protoc and grpc_python_plugin generated (the test does that into STUBS). Nothing of gopsctl is used.

Usage: gopsd_client.py ADDRESS STUBS PID MISSING_PID  (tokens in the environment: GOPSD_TOKEN, GOPSD_WEAK_TOKEN)

Prints one JSON object on stdout: what reflection lists and resolves (v1 and v1alpha), Health/Check called through
message classes built from the FileDescriptorProtos reflection returned, a unary and a streaming Diagnostics call,
and the google.rpc.Status details (ErrorInfo, RetryInfo) of failing calls.
"""
import json
import os
import sys

ADDRESS, STUBS, PID, MISSING_PID = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, STUBS)

import grpc  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from gops.v1 import diagnostics_pb2, diagnostics_pb2_grpc  # noqa: E402
from reflection_v1 import reflection_pb2 as v1_pb2, reflection_pb2_grpc as v1_grpc  # noqa: E402
from reflection_v1alpha import reflection_pb2 as v1alpha_pb2, reflection_pb2_grpc as v1alpha_grpc  # noqa: E402

TIMEOUT = 20
AUTH = [("authorization", "Bearer " + os.environ["GOPSD_TOKEN"])]
WEAK = [("authorization", "Bearer " + os.environ["GOPSD_WEAK_TOKEN"])]
channel = grpc.insecure_channel(ADDRESS)
grpc.channel_ready_future(channel).result(timeout=TIMEOUT)


def reflect(pb2, grpc_mod, requests):
    """Sends the requests on one ServerReflectionInfo stream; returns the responses."""
    stub = grpc_mod.ServerReflectionStub(channel)
    return list(stub.ServerReflectionInfo(iter([pb2.ServerReflectionRequest(**r) for r in requests]), metadata=AUTH, timeout=TIMEOUT))


def files_of(response):
    """The FileDescriptorProtos of a file_descriptor_response (or the error it is)."""
    kind = response.WhichOneof("message_response")
    if kind != "file_descriptor_response":
        return {"error": response.error_response.error_message if kind == "error_response" else kind}
    out = []
    for raw in response.file_descriptor_response.file_descriptor_proto:
        fd = descriptor_pb2.FileDescriptorProto()
        fd.ParseFromString(raw)
        out.append(fd)
    return out


def reflection_report(pb2, grpc_mod):
    listed = reflect(pb2, grpc_mod, [{"list_services": ""}])[0]
    services = sorted(s.name for s in listed.list_services_response.service)
    by_symbol, by_file = {}, {}
    answers = reflect(pb2, grpc_mod, [{"file_containing_symbol": name} for name in services])
    for name, answer in zip(services, answers):
        files = files_of(answer)
        if isinstance(files, dict):
            by_symbol[name] = files
            continue
        fd = files[0]
        prefix = fd.package + "." if fd.package else ""
        by_symbol[name] = {"file": fd.name, "defines": any(prefix + s.name == name for s in fd.service)}
    # Every file named above, and every file those import, by file name.
    wanted = sorted({v["file"] for v in by_symbol.values() if "file" in v})
    seen = set()
    while wanted:
        answers = reflect(pb2, grpc_mod, [{"file_by_filename": f} for f in wanted])
        nxt = set()
        for name, answer in zip(wanted, answers):
            seen.add(name)
            files = files_of(answer)
            if isinstance(files, dict):
                by_file[name] = files
                continue
            by_file[name] = {"name": files[0].name, "services": [s.name for s in files[0].service]}
            nxt.update(d for d in files[0].dependency if d not in seen)
        wanted = sorted(nxt - seen)
    return {"services": services, "bySymbol": by_symbol, "byFile": by_file}


def health_through_reflection():
    """Health/Check with message classes built from the descriptors reflection returned (no local health .proto)."""
    pool = descriptor_pool.DescriptorPool()
    answer = reflect(v1_pb2, v1_grpc, [{"file_containing_symbol": "grpc.health.v1.Health"}])[0]
    for fd in files_of(answer):
        pool.Add(fd)
    service = pool.FindServiceByName("grpc.health.v1.Health")
    check = service.FindMethodByName("Check")
    factory = message_factory.MessageFactory(pool)
    request_class = factory.GetPrototype(check.input_type)
    response_class = factory.GetPrototype(check.output_type)
    call = channel.unary_unary(
        "/%s/%s" % (service.full_name, check.name),
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    response = call(request_class(service="gops.v1.DiagnosticsService"), timeout=TIMEOUT)
    status_field = response_class.DESCRIPTOR.fields_by_name["status"]
    return {
        "method": "/%s/%s" % (service.full_name, check.name),
        "status": status_field.enum_type.values_by_number[response.status].name,
    }


def details_of(error):
    """The code and google.rpc.Status details of a failed call."""
    out = {"code": error.code().name, "message": error.details()}
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        out["statusCode"] = status.code
        out["statusMessage"] = status.message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                out["errorInfo"] = {"reason": info.reason, "domain": info.domain, "metadata": dict(info.metadata)}
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                out["retryDelayMs"] = retry.retry_delay.seconds * 1000 + retry.retry_delay.nanos // 1000000
    return out


def failing(fn):
    try:
        fn()
    except grpc.RpcError as e:
        return details_of(e)
    return {"code": "OK"}


def section(fn):
    """One part of the report; a part that fails says how, and the others still run."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - reported to the test, which fails on it
        return {"error": "%s: %s" % (type(e).__name__, e)}


def unary():
    listing = stub.ListProcesses(diagnostics_pb2.ListProcessesRequest(), metadata=AUTH, timeout=TIMEOUT)
    return {"pids": [p.pid for p in listing.processes], "host": listing.host}


def streaming():
    stack = b"".join(r.chunk for r in stub.Stack(diagnostics_pb2.StackRequest(pid=PID), metadata=AUTH, timeout=TIMEOUT))
    return {"bytes": len(stack), "head": stack[:200].decode("utf-8", "replace")}


stub = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
report = {
    "reflection": {
        "v1": section(lambda: reflection_report(v1_pb2, v1_grpc)),
        "v1alpha": section(lambda: reflection_report(v1alpha_pb2, v1alpha_grpc)),
    },
    "health": section(health_through_reflection),
    "unary": section(unary),
    "streaming": section(streaming),
    "notFound": failing(lambda: stub.GetProcess(diagnostics_pb2.GetProcessRequest(pid=MISSING_PID), metadata=AUTH, timeout=TIMEOUT)),
    "scopeMissing": failing(lambda: list(stub.Stack(diagnostics_pb2.StackRequest(pid=PID), metadata=WEAK, timeout=TIMEOUT))),
    "fixedDuration": failing(
        lambda: list(stub.StreamTrace(diagnostics_pb2.StreamTraceRequest(pid=PID, duration_seconds=7), metadata=AUTH, timeout=TIMEOUT))
    ),
}
print(json.dumps(report))
