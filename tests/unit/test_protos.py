"""The protobuf contracts: generated modules, service surfaces, round trips, and documentation.

Runs without network: protoc comes from grpcio-tools, servers bind to port 0 on localhost.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import EnumDescriptor, FileDescriptor, ServiceDescriptor

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "protos"
GENERATED = ROOT / "generated"

try:  # installed (editable) or already on sys.path
    import gaia  # noqa: F401
except ImportError:  # a bare checkout: use the generated/ package root directly
    sys.path.insert(0, str(GENERATED))

from gaia.asset.v1 import asset_pb2, asset_pb2_grpc  # noqa: E402
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc  # noqa: E402
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc  # noqa: E402
from gaia.common.v1 import common_pb2  # noqa: E402

PROTO_FILES = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.rglob("*.proto"))

# The exact RPC surface of each service: name -> (client streaming?, server streaming?).
EXPECTED_RPCS: dict[str, dict[str, tuple[bool, bool]]] = {
    "gaia.auth.v1.AuthService": {
        name: (False, False)
        for name in (
            "Authenticate",
            "Register",
            "Login",
            "Refresh",
            "Logout",
            "ConfirmEmail",
            "ResendVerification",
            "Validate",
            "GetProfile",
            "UpdateProfile",
            "ChangePassword",
            "CreateApiKey",
            "ListApiKeys",
            "RevokeApiKey",
            "CreateUser",
            "CheckRateLimit",
        )
    },
    "gaia.chat.v1.ChatService": {
        "StreamChat": (False, True),
        **{
            name: (False, False)
            for name in (
                "Chat",
                "CreateConversation",
                "ListConversations",
                "GetConversation",
                "RenameConversation",
                "DeleteConversation",
                "ListMessages",
                "GetChatStatus",
                "ClearHistory",
                "ReloadPrompt",
                "GetCacheStatus",
                "InvalidateCache",
                "ListPersonas",
                "GetPersona",
                "CreatePersona",
                "UpdatePersona",
                "DeletePersona",
                "SetCurrentPersona",
                "GetCurrentPersona",
                "InitializeDefaultPersona",
                "ListProviders",
                "GetProvider",
                "GetProviderHealth",
                "GetProviderStats",
                "ListProviderModels",
                "ListModels",
                "GetModel",
                "GetPerformance",
                "ResetPerformance",
            )
        },
    },
    "gaia.asset.v1.AssetService": {
        "GenerateAsset": (False, True),
        "DownloadAsset": (False, True),
        **{
            name: (False, False)
            for name in (
                "ListAssets",
                "GetAsset",
                "GetCurrentPricing",
                "GetPricingAnalytics",
                "UpdatePricing",
                "ListPricingProviders",
                "EstimateCost",
                "GetDalleTiers",
                "GetMeshyPackages",
                "CompareProviders",
                "RecordUsage",
                "GetCurrentUsage",
                "GetUsageHistory",
                "LogUsage",
                "GetUsageLimits",
                "GetCurrentBilling",
                "GetMonthlyReport",
            )
        },
    },
}

FILES: dict[str, FileDescriptor] = {
    "gaia/common/v1/common.proto": common_pb2.DESCRIPTOR,
    "gaia/auth/v1/auth.proto": auth_pb2.DESCRIPTOR,
    "gaia/chat/v1/chat.proto": chat_pb2.DESCRIPTOR,
    "gaia/asset/v1/asset.proto": asset_pb2.DESCRIPTOR,
}


def _service(full_name: str) -> ServiceDescriptor:
    package, _, name = full_name.rpartition(".")
    for file in FILES.values():
        if file.package == package and name in file.services_by_name:
            return file.services_by_name[name]
    raise AssertionError(f"service {full_name} not found")


# --- generated modules -------------------------------------------------------------------


def test_every_proto_file_has_a_descriptor_module() -> None:
    assert sorted(FILES) == PROTO_FILES


def test_every_generated_module_imports() -> None:
    import gaia

    names = [m.name for m in pkgutil.walk_packages(gaia.__path__, prefix="gaia.")]
    for name in names:
        importlib.import_module(name)
    expected = {
        f"gaia.{svc}.v1.{svc}_{suffix}"
        for svc in ("common", "auth", "chat", "asset")
        for suffix in ("pb2", "pb2_grpc")
    }
    assert expected <= set(names)


def test_generated_folder_is_up_to_date() -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        [str(ROOT / "scripts" / "generate"), "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- service surfaces --------------------------------------------------------------------


@pytest.mark.parametrize("service_name", sorted(EXPECTED_RPCS))
def test_service_has_exactly_the_expected_rpcs(service_name: str) -> None:
    service = _service(service_name)
    actual = {m.name: (m.client_streaming, m.server_streaming) for m in service.methods}
    assert actual == EXPECTED_RPCS[service_name]


@pytest.mark.parametrize("service_name", sorted(EXPECTED_RPCS))
def test_request_and_response_types_are_named_after_the_rpc(service_name: str) -> None:
    for method in _service(service_name).methods:
        assert method.input_type.name == f"{method.name}Request"
        assert method.output_type.name == f"{method.name}Response"


@pytest.mark.parametrize(
    ("module", "service"),
    [(auth_pb2_grpc, "AuthService"), (chat_pb2_grpc, "ChatService"), (asset_pb2_grpc, "AssetService")],
)
def test_grpc_modules_export_stub_servicer_and_registration(module: object, service: str) -> None:
    assert callable(getattr(module, f"{service}Stub"))
    assert callable(getattr(module, f"{service}Servicer"))
    assert callable(getattr(module, f"add_{service}Servicer_to_server"))


def test_key_rpcs() -> None:
    auth = _service("gaia.auth.v1.AuthService").methods_by_name["Authenticate"]
    assert [f.name for f in auth.input_type.fields] == ["jwt", "api_key"]
    assert [(f.name, f.number) for f in auth.input_type.fields] == [("jwt", 1), ("api_key", 2)]
    assert [(f.name, f.number) for f in auth.output_type.fields] == [("principal", 1)]
    principal_type = auth.output_type.fields[0].message_type
    assert principal_type is not None and principal_type.full_name == "gaia.common.v1.Principal"

    stream_chat = _service("gaia.chat.v1.ChatService").methods_by_name["StreamChat"]
    assert stream_chat.server_streaming and not stream_chat.client_streaming
    event = stream_chat.output_type.oneofs_by_name["event"]
    assert [f.name for f in event.fields] == ["started", "token", "completed", "failed"]

    generate = _service("gaia.asset.v1.AssetService").methods_by_name["GenerateAsset"]
    assert generate.server_streaming and not generate.client_streaming
    event = generate.output_type.oneofs_by_name["event"]
    assert [f.name for f in event.fields] == ["progress", "done", "failed"]


def test_principal_shape() -> None:
    fields = [(f.name, f.number) for f in common_pb2.Principal.DESCRIPTOR.fields]
    assert fields == [
        ("user_id", 1),
        ("email", 2),
        ("auth_type", 3),
        ("api_key_id", 4),
        ("scopes", 5),
        ("session_id", 6),
    ]
    assert common_pb2.AuthType.Name(0) == "AUTH_TYPE_UNSPECIFIED"
    assert common_pb2.AUTH_TYPE_JWT == 1
    assert common_pb2.AUTH_TYPE_API_KEY == 2


def test_persona_fields_are_in_reference_order() -> None:
    by_number = {f.number: f.name for f in chat_pb2.Persona.DESCRIPTOR.fields}
    names = [by_number[number] for number in sorted(by_number)]
    assert names == [
        "name",
        "description",
        "system_prompt",
        "personality_traits",
        "capabilities",
        "id",
        "is_active",
        "created_by",
        "created_at",
        "updated_at",
    ]


def test_chat_takes_the_turn_stream_chat_takes() -> None:
    """One message for a turn, streamed or whole (``ChatRequest`` wraps it): nothing to keep in step."""
    fields = chat_pb2.ChatRequest.DESCRIPTOR.fields
    assert [(f.name, f.message_type) for f in fields] == [("turn", chat_pb2.StreamChatRequest.DESCRIPTOR)]


def test_every_enum_has_a_prefixed_unspecified_zero() -> None:
    def enums(file: FileDescriptor) -> Iterator[EnumDescriptor]:
        yield from file.enum_types_by_name.values()
        stack = list(file.message_types_by_name.values())
        while stack:
            message = stack.pop()
            yield from message.enum_types
            stack.extend(message.nested_types)

    for file in FILES.values():
        for enum in enums(file):
            prefix = "".join(f"_{c}" if c.isupper() else c.upper() for c in enum.name).lstrip("_") + "_"
            assert enum.values_by_number[0].name == f"{prefix}UNSPECIFIED", enum.full_name
            for value in enum.values:
                assert value.name.startswith(prefix), value.name


# --- round trips -------------------------------------------------------------------------


def test_round_trip_principal() -> None:
    principal = common_pb2.Principal(
        user_id="11111111-2222-3333-4444-555555555555",
        email="dev@gaia.local",
        auth_type=common_pb2.AUTH_TYPE_API_KEY,
        api_key_id="k1",
        scopes=["admin"],
    )
    response = auth_pb2.AuthenticateResponse(principal=principal)
    assert auth_pb2.AuthenticateResponse.FromString(response.SerializeToString()) == response


def test_round_trip_auth_response_session_is_nullable() -> None:
    user = auth_pb2.User(id="u1", email="a@b.c", aud="authenticated", role="authenticated")
    user.created_at.FromSeconds(1_752_750_000)
    pending = auth_pb2.RegisterResponse(user=user, confirmation_required=True)
    back = auth_pb2.RegisterResponse.FromString(pending.SerializeToString())
    assert not back.HasField("session")
    assert not back.user.HasField("email_confirmed_at")

    session = auth_pb2.Session(
        access_token="jwt",
        refresh_token="opaque",
        expires_in=3600,
        expires_at=1_752_753_600,
        token_type="bearer",
        user=user,
    )
    login = auth_pb2.LoginResponse(user=user, session=session)
    assert auth_pb2.LoginResponse.FromString(login.SerializeToString()) == login


def test_validate_response_distinguishes_null_from_empty() -> None:
    invalid = auth_pb2.ValidateResponse(valid=False, error="No valid authentication credentials provided")
    back = auth_pb2.ValidateResponse.FromString(invalid.SerializeToString())
    assert not back.HasField("user_id")
    assert back.HasField("error")
    assert back.auth_type == common_pb2.AUTH_TYPE_UNSPECIFIED


def test_round_trip_chat_events() -> None:
    events = [
        chat_pb2.StreamChatResponse(
            started=chat_pb2.ChatStarted(
                conversation_id="c1", model="m", provider="claude", request_id="chat-1", created=1
            )
        ),
        chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text="héllo ")),
        chat_pb2.StreamChatResponse(
            completed=chat_pb2.ChatCompleted(
                finish_reason="stop",
                usage=common_pb2.Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
                timings=chat_pb2.ChatTimings(time_to_first_token_ms=5, total_time_ms=9),
                message_id="m1",
            )
        ),
        chat_pb2.StreamChatResponse(failed=common_pb2.Failure(code=14, reason="api_error", message="down")),
    ]
    kinds = []
    for event in events:
        back = chat_pb2.StreamChatResponse.FromString(event.SerializeToString())
        assert back == event
        kinds.append(back.WhichOneof("event"))
    assert kinds == ["started", "token", "completed", "failed"]


def test_round_trip_persona_with_json_objects() -> None:
    persona = chat_pb2.Persona(name="Mu", description="d", system_prompt="s", id="p1", is_active=True)
    persona.personality_traits.update({"cheerful": True, "helpful": True})
    persona.capabilities.update({"meditation_guidance": True})
    persona.created_at.FromJsonString("2025-07-17T16:52:26.190450Z")
    back = chat_pb2.Persona.FromString(persona.SerializeToString())
    assert back == persona
    assert dict(back.personality_traits) == {"cheerful": True, "helpful": True}
    assert back.created_at.ToJsonString() == "2025-07-17T16:52:26.190450Z"


def test_round_trip_asset_generation_events() -> None:
    asset = asset_pb2.Asset(
        asset_id="a1",
        source=asset_pb2.ASSET_SOURCE_GENERATED,
        cost=0.04,
        response_time_ms=1234,
        asset_data=asset_pb2.AssetData(
            download_url="http://localhost/a1.png",
            file_format="png",
            file_size_mb=1.6,
            quality_score=0.85,
            license_type=asset_pb2.LICENSE_TYPE_PROPRIETARY,
        ),
        storage_info=asset_pb2.StorageInfo(
            storage_type=asset_pb2.STORAGE_TYPE_LOCAL,
            bucket_name="assets",
            file_path="generated/image/a1.png",
            external_source="local",
        ),
        category=asset_pb2.ASSET_CATEGORY_IMAGE,
        style_tags=["realistic"],
    )
    asset.metadata.update({"prompt": "a sunset", "size": "1024x1024"})
    events = [
        asset_pb2.GenerateAssetResponse(
            generation_id="g1",
            progress=asset_pb2.GenerationProgress(stage=asset_pb2.GENERATION_STAGE_QUEUED, percent=0),
        ),
        asset_pb2.GenerateAssetResponse(generation_id="g1", done=asset_pb2.GenerationDone(asset=asset)),
        asset_pb2.GenerateAssetResponse(
            generation_id="g1", failed=common_pb2.Failure(code=8, reason="budget_exceeded", message="x")
        ),
    ]
    for event in events:
        assert asset_pb2.GenerateAssetResponse.FromString(event.SerializeToString()) == event
    assert not events[1].done.asset.asset_data.HasField("preview_image_url")


def test_round_trip_generate_asset_request_keeps_null_sections() -> None:
    bare = asset_pb2.GenerateAssetRequest(
        category=asset_pb2.ASSET_CATEGORY_PROP, style="sci_fi", description="crystal"
    )
    back = asset_pb2.GenerateAssetRequest.FromString(bare.SerializeToString())
    assert not back.HasField("requirements") and not back.HasField("preferences")

    full = asset_pb2.GenerateAssetRequest(
        category=asset_pb2.ASSET_CATEGORY_AUDIO,
        style="ambient-calm",
        description="music",
        requirements=asset_pb2.AssetRequirements(
            platform="mobile_vr", quality=asset_pb2.ASSET_QUALITY_MEDIUM, polygon_count_max=5000
        ),
        preferences=asset_pb2.AssetPreferences(allow_generation=True, max_cost=0.15, max_wait_time_ms=45000),
    )
    back = asset_pb2.GenerateAssetRequest.FromString(full.SerializeToString())
    assert back == full
    assert back.preferences.HasField("allow_generation") and not back.preferences.HasField("allow_database")


def test_pricing_and_usage_variants() -> None:
    pricing = asset_pb2.ProviderPricing(
        provider="dalle",
        pricing_model=asset_pb2.PRICING_MODEL_TIER_BASED,
        tier_pricing=asset_pb2.TierPricing(
            tiers=[
                asset_pb2.DalleTier(name="Tier 1", monthly_fee=5.0, images_per_minute=5, monthly_limit=15000)
            ]
        ),
    )
    assert asset_pb2.ProviderPricing.FromString(pricing.SerializeToString()).WhichOneof("details") == (
        "tier_pricing"
    )
    limit = asset_pb2.ProviderLimit(provider="claude", tokens=asset_pb2.TokenLimit(token_limit=1_000_000))
    assert asset_pb2.ProviderLimit.FromString(limit.SerializeToString()).WhichOneof("limit") == "tokens"
    log = asset_pb2.LogUsageRequest(provider="dalle", operation="image_generation")
    assert not asset_pb2.LogUsageRequest.FromString(log.SerializeToString()).HasField("cost")


# --- documentation -----------------------------------------------------------------------

# Field numbers in descriptor.proto, used as SourceCodeInfo paths.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MSG_FIELD, _MSG_NESTED, _MSG_ENUM, _MSG_ONEOF = 2, 3, 4, 8
_ENUM_VALUE = 2
_SERVICE_METHOD = 2


def _descriptor_set(tmp_path: Path) -> descriptor_pb2.FileDescriptorSet:
    from grpc_tools import protoc

    wkt = Path(protoc.__file__).parent / "_proto"
    out = tmp_path / "gaia.pb"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{wkt}",
        "--include_source_info",
        f"--descriptor_set_out={out}",
        *PROTO_FILES,
    ]
    assert protoc.main(args) == 0
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _elements(file: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[tuple[int, ...], str]]:
    """Every documentable element of a file: (SourceCodeInfo path, readable name)."""

    def enum(path: tuple[int, ...], e: descriptor_pb2.EnumDescriptorProto, scope: str):
        yield path, f"enum {scope}{e.name}"
        for i, value in enumerate(e.value):
            yield (*path, _ENUM_VALUE, i), f"enum value {scope}{e.name}.{value.name}"

    def message(path: tuple[int, ...], m: descriptor_pb2.DescriptorProto, scope: str):
        name = f"{scope}{m.name}"
        yield path, f"message {name}"
        for i, field in enumerate(m.field):
            yield (*path, _MSG_FIELD, i), f"field {name}.{field.name}"
        for i, oneof in enumerate(m.oneof_decl):
            if not oneof.name.startswith("_"):  # synthetic oneofs of proto3 `optional`
                yield (*path, _MSG_ONEOF, i), f"oneof {name}.{oneof.name}"
        for i, nested in enumerate(m.nested_type):
            if not nested.options.map_entry:
                yield from message((*path, _MSG_NESTED, i), nested, f"{name}.")
        for i, e in enumerate(m.enum_type):
            yield from enum((*path, _MSG_ENUM, i), e, f"{name}.")

    for i, m in enumerate(file.message_type):
        yield from message((_FILE_MESSAGE, i), m, "")
    for i, e in enumerate(file.enum_type):
        yield from enum((_FILE_ENUM, i), e, "")
    for i, service in enumerate(file.service):
        yield (_FILE_SERVICE, i), f"service {service.name}"
        for j, method in enumerate(service.method):
            yield (_FILE_SERVICE, i, _SERVICE_METHOD, j), f"rpc {service.name}.{method.name}"


def test_every_element_has_a_leading_comment(tmp_path: Path) -> None:
    descriptor_set = _descriptor_set(tmp_path)
    assert sorted(f.name for f in descriptor_set.file) == PROTO_FILES
    undocumented = []
    checked = 0
    for file in descriptor_set.file:
        assert file.package.startswith("gaia."), file.name
        documented = {
            tuple(location.path)
            for location in file.source_code_info.location
            if location.leading_comments.strip()
        }
        for path, name in _elements(file):
            checked += 1
            if path not in documented:
                undocumented.append(f"{file.name}: {name}")
    assert checked > 500  # sanity: the walk really visited the files
    assert not undocumented, "missing leading // comments:\n" + "\n".join(undocumented)


# --- the stubs work over a real channel ----------------------------------------------------


class _Auth(auth_pb2_grpc.AuthServiceServicer):
    async def Authenticate(self, request, context):
        if request.api_key != "good":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "Could not validate credentials")
        return auth_pb2.AuthenticateResponse(
            principal=common_pb2.Principal(user_id="u1", auth_type=common_pb2.AUTH_TYPE_API_KEY)
        )


class _Chat(chat_pb2_grpc.ChatServiceServicer):
    async def StreamChat(
        self, request: chat_pb2.StreamChatRequest, context
    ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        yield chat_pb2.StreamChatResponse(started=chat_pb2.ChatStarted(conversation_id="c1"))
        for word in request.message.split():
            yield chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text=word))
        yield chat_pb2.StreamChatResponse(completed=chat_pb2.ChatCompleted(finish_reason="stop"))


async def test_stubs_over_grpc_aio() -> None:
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(_Auth(), server)
    chat_pb2_grpc.add_ChatServiceServicer_to_server(_Chat(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            auth = auth_pb2_grpc.AuthServiceStub(channel)
            reply = await auth.Authenticate(auth_pb2.AuthenticateRequest(api_key="good"), timeout=5)
            assert reply.principal.user_id == "u1"
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await auth.Authenticate(auth_pb2.AuthenticateRequest(api_key="bad"), timeout=5)
            assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED

            chat = chat_pb2_grpc.ChatServiceStub(channel)
            call = chat.StreamChat(chat_pb2.StreamChatRequest(message="echo two words"), timeout=5)
            events = [event async for event in call]
            assert [e.WhichOneof("event") for e in events] == [
                "started",
                "token",
                "token",
                "token",
                "completed",
            ]
            assert "".join(e.token.text for e in events if e.HasField("token")) == "echotwowords"
    finally:
        await server.stop(None)
