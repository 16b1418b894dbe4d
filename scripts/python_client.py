#!/usr/bin/python3
"""An independent client of coaching.v1.CoachingService, in Python grpcio.

Stubs are generated from proto/ at run time (grpc_tools.protoc), so the client
knows nothing but the contract. It drives Create/Get/List/Update/Delete against
a running server and prints one JSON document with every step's status code
and response, for a person or a test to check.

    /usr/bin/python3 scripts/python_client.py 127.0.0.1:50051

Needs the Debian packages python3-grpcio and python3-grpc-tools.
"""

import argparse
import importlib
import json
import os
import sys
import tempfile
import uuid

import grpc
import grpc_tools
from grpc_tools import protoc
from google.protobuf.json_format import MessageToDict

def proto_files(proto_dir: str) -> list:
    """Every coaching.v1 file (they import each other) and health."""
    names = sorted(f"coaching/v1/{n}" for n in os.listdir(os.path.join(proto_dir, "coaching", "v1")) if n.endswith(".proto"))
    # google/rpc/error_details.proto uses proto3 `optional`, which Debian's old grpc_tools cannot compile; not needed here.
    return names + ["grpc/health/v1/health.proto"]


def well_known_include() -> str:
    """The folder holding google/protobuf/*.proto that ships with grpc_tools."""
    for candidate in (os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"), "/usr/include"):
        if os.path.exists(os.path.join(candidate, "google", "protobuf", "timestamp.proto")):
            return candidate
    sys.exit("google/protobuf/timestamp.proto not found; install python3-grpc-tools")


def generate_stubs(proto_dir: str, out_dir: str) -> None:
    args = ["grpc_tools.protoc", f"-I{proto_dir}", f"-I{well_known_include()}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    files = proto_files(proto_dir)
    if protoc.main(args + files) != 0:
        sys.exit(f"grpc_tools.protoc could not compile {files} from {proto_dir}")
    # Python 3 namespace packages need no __init__.py, but an explicit one avoids clashes with installed 'grpc'.
    for package in ("coaching", "coaching/v1"):
        open(os.path.join(out_dir, package, "__init__.py"), "a").close()


def as_dict(message) -> dict:
    return MessageToDict(message, preserving_proto_field_name=True)


class Recorder:
    """Runs calls and records each as {step, code, details, response}."""

    def __init__(self) -> None:
        self.steps = []

    def call(self, step: str, method, request, **kwargs):
        try:
            response = method(request, timeout=10, **kwargs)
        except grpc.RpcError as error:
            self.steps.append({"step": step, "code": error.code().name, "details": error.details()})
            return None
        self.steps.append({"step": step, "code": "OK", "response": as_dict(response)})
        return response


def run(address: str, proto_dir: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="coaching-py-") as out_dir:
        generate_stubs(proto_dir, out_dir)
        sys.path.insert(0, out_dir)
        # health.proto lives in package grpc.health.v1, inside the installed 'grpc' package: let it find the stubs too.
        grpc.__path__.append(os.path.join(out_dir, "grpc"))
        profile_pb2 = importlib.import_module("coaching.v1.profile_pb2")
        service_pb2 = importlib.import_module("coaching.v1.coaching_service_pb2")
        service_grpc = importlib.import_module("coaching.v1.coaching_service_pb2_grpc")
        health_pb2 = importlib.import_module("grpc.health.v1.health_pb2")
        health_grpc = importlib.import_module("grpc.health.v1.health_pb2_grpc")

    from google.protobuf import field_mask_pb2

    rec = Recorder()
    email = f"python-{uuid.uuid4().hex[:10]}@example.com"
    request_id = str(uuid.uuid4())
    with grpc.insecure_channel(address) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        health = health_grpc.HealthStub(channel)
        api = service_grpc.CoachingServiceStub(channel)

        rec.call("health", health.Check, health_pb2.HealthCheckRequest(service="coaching.v1.CoachingService"))
        new = profile_pb2.Profile(
            role=profile_pb2.ROLE_COACH, email=email, display_name="Py Thon", timezone="Europe/Berlin", bio="from python"
        )
        created = rec.call("create", api.CreateProfile, service_pb2.CreateProfileRequest(profile=new, request_id=request_id))
        rec.call("create_retry", api.CreateProfile, service_pb2.CreateProfileRequest(profile=new, request_id=request_id))
        if created is None:
            return {"email": email, "request_id": request_id, "steps": rec.steps}
        profile = created.profile

        rec.call("get", api.GetProfile, service_pb2.GetProfileRequest(id=profile.id), metadata=[("x-request-id", "python-get-1")])
        listed, token, pages = [], "", 0
        while True:
            page = rec.call("list", api.ListProfiles, service_pb2.ListProfilesRequest(page_size=2, page_token=token, role=profile_pb2.ROLE_COACH))
            if page is None:
                break
            pages += 1
            listed.extend(p.id for p in page.profiles)
            token = page.next_page_token
            if token == "" or pages > 1000:
                break

        change = profile_pb2.Profile(id=profile.id, etag=profile.etag, display_name="Renamed in Python")
        updated = rec.call(
            "update",
            api.UpdateProfile,
            service_pb2.UpdateProfileRequest(profile=change, update_mask=field_mask_pb2.FieldMask(paths=["display_name"])),
        )
        stale = profile_pb2.Profile(id=profile.id, etag=profile.etag, bio="stale write")
        rec.call("update_stale", api.UpdateProfile, service_pb2.UpdateProfileRequest(profile=stale, update_mask=field_mask_pb2.FieldMask(paths=["bio"])))
        rec.call("get_invalid", api.GetProfile, service_pb2.GetProfileRequest(id="not-a-uuid"))
        rec.call("create_duplicate_email", api.CreateProfile, service_pb2.CreateProfileRequest(profile=new))
        etag = updated.profile.etag if updated is not None else profile.etag
        rec.call("delete", api.DeleteProfile, service_pb2.DeleteProfileRequest(id=profile.id, etag=etag))
        rec.call("get_deleted", api.GetProfile, service_pb2.GetProfileRequest(id=profile.id))

    return {"email": email, "request_id": request_id, "id": profile.id, "listed_ids": listed, "list_pages": pages, "steps": rec.steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="host:port of the coaching service")
    default_proto = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto")
    parser.add_argument("--proto-dir", default=default_proto, help="folder holding coaching/v1/*.proto (default: the repository's proto/)")
    args = parser.parse_args()
    print(json.dumps(run(args.address, os.path.abspath(args.proto_dir)), indent=2))


if __name__ == "__main__":
    main()
