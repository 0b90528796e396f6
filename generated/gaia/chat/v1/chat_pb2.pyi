import datetime

from gaia.common.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HistoryMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HISTORY_MODE_UNSPECIFIED: _ClassVar[HistoryMode]
    HISTORY_MODE_NONE: _ClassVar[HistoryMode]
    HISTORY_MODE_CONVERSATION: _ClassVar[HistoryMode]
    HISTORY_MODE_USER_DEFAULT: _ClassVar[HistoryMode]

class MessageRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_ROLE_UNSPECIFIED: _ClassVar[MessageRole]
    MESSAGE_ROLE_SYSTEM: _ClassVar[MessageRole]
    MESSAGE_ROLE_USER: _ClassVar[MessageRole]
    MESSAGE_ROLE_ASSISTANT: _ClassVar[MessageRole]
    MESSAGE_ROLE_TOOL: _ClassVar[MessageRole]
    MESSAGE_ROLE_DEVELOPER: _ClassVar[MessageRole]

class ModelCapability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_CAPABILITY_UNSPECIFIED: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_CHAT: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_STREAMING: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_TOOL_CALLING: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_VISION: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_CODE_GENERATION: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_MULTIMODAL: _ClassVar[ModelCapability]
    MODEL_CAPABILITY_LONG_CONTEXT: _ClassVar[ModelCapability]

class ChatDoor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_DOOR_UNSPECIFIED: _ClassVar[ChatDoor]
    CHAT_DOOR_V02: _ClassVar[ChatDoor]

class ProviderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_STATUS_UNSPECIFIED: _ClassVar[ProviderStatus]
    PROVIDER_STATUS_AVAILABLE: _ClassVar[ProviderStatus]
    PROVIDER_STATUS_UNCONFIGURED: _ClassVar[ProviderStatus]
    PROVIDER_STATUS_UNAVAILABLE: _ClassVar[ProviderStatus]
HISTORY_MODE_UNSPECIFIED: HistoryMode
HISTORY_MODE_NONE: HistoryMode
HISTORY_MODE_CONVERSATION: HistoryMode
HISTORY_MODE_USER_DEFAULT: HistoryMode
MESSAGE_ROLE_UNSPECIFIED: MessageRole
MESSAGE_ROLE_SYSTEM: MessageRole
MESSAGE_ROLE_USER: MessageRole
MESSAGE_ROLE_ASSISTANT: MessageRole
MESSAGE_ROLE_TOOL: MessageRole
MESSAGE_ROLE_DEVELOPER: MessageRole
MODEL_CAPABILITY_UNSPECIFIED: ModelCapability
MODEL_CAPABILITY_CHAT: ModelCapability
MODEL_CAPABILITY_STREAMING: ModelCapability
MODEL_CAPABILITY_TOOL_CALLING: ModelCapability
MODEL_CAPABILITY_VISION: ModelCapability
MODEL_CAPABILITY_CODE_GENERATION: ModelCapability
MODEL_CAPABILITY_MULTIMODAL: ModelCapability
MODEL_CAPABILITY_LONG_CONTEXT: ModelCapability
CHAT_DOOR_UNSPECIFIED: ChatDoor
CHAT_DOOR_V02: ChatDoor
PROVIDER_STATUS_UNSPECIFIED: ProviderStatus
PROVIDER_STATUS_AVAILABLE: ProviderStatus
PROVIDER_STATUS_UNCONFIGURED: ProviderStatus
PROVIDER_STATUS_UNAVAILABLE: ProviderStatus

class InputMessage(_message.Message):
    __slots__ = ("role", "content", "name")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    role: MessageRole
    content: str
    name: str
    def __init__(self, role: _Optional[_Union[MessageRole, str]] = ..., content: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class StreamChatRequest(_message.Message):
    __slots__ = ("message", "messages", "model", "provider", "conversation_id", "history_mode", "use_current_persona", "persona_id", "max_tokens", "temperature", "top_p", "stop", "stream", "enable_fallback", "door")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_MODE_FIELD_NUMBER: _ClassVar[int]
    USE_CURRENT_PERSONA_FIELD_NUMBER: _ClassVar[int]
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ENABLE_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    DOOR_FIELD_NUMBER: _ClassVar[int]
    message: str
    messages: _containers.RepeatedCompositeFieldContainer[InputMessage]
    model: str
    provider: str
    conversation_id: str
    history_mode: HistoryMode
    use_current_persona: bool
    persona_id: str
    max_tokens: int
    temperature: float
    top_p: float
    stop: _containers.RepeatedScalarFieldContainer[str]
    stream: bool
    enable_fallback: bool
    door: ChatDoor
    def __init__(self, message: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[InputMessage, _Mapping]]] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., conversation_id: _Optional[str] = ..., history_mode: _Optional[_Union[HistoryMode, str]] = ..., use_current_persona: bool = ..., persona_id: _Optional[str] = ..., max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., stop: _Optional[_Iterable[str]] = ..., stream: bool = ..., enable_fallback: bool = ..., door: _Optional[_Union[ChatDoor, str]] = ...) -> None: ...

class StreamChatResponse(_message.Message):
    __slots__ = ("started", "token", "completed", "failed")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    started: ChatStarted
    token: ChatToken
    completed: ChatCompleted
    failed: _common_pb2.Failure
    def __init__(self, started: _Optional[_Union[ChatStarted, _Mapping]] = ..., token: _Optional[_Union[ChatToken, _Mapping]] = ..., completed: _Optional[_Union[ChatCompleted, _Mapping]] = ..., failed: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ...) -> None: ...

class ChatStarted(_message.Message):
    __slots__ = ("conversation_id", "model", "provider", "request_id", "created", "persona_id", "conversation_created")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_CREATED_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    model: str
    provider: str
    request_id: str
    created: int
    persona_id: str
    conversation_created: bool
    def __init__(self, conversation_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., request_id: _Optional[str] = ..., created: _Optional[int] = ..., persona_id: _Optional[str] = ..., conversation_created: bool = ...) -> None: ...

class ChatToken(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class ChatTimings(_message.Message):
    __slots__ = ("time_to_first_token_ms", "llm_time_ms", "total_time_ms", "routing_time_ms")
    TIME_TO_FIRST_TOKEN_MS_FIELD_NUMBER: _ClassVar[int]
    LLM_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ROUTING_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    time_to_first_token_ms: int
    llm_time_ms: int
    total_time_ms: int
    routing_time_ms: int
    def __init__(self, time_to_first_token_ms: _Optional[int] = ..., llm_time_ms: _Optional[int] = ..., total_time_ms: _Optional[int] = ..., routing_time_ms: _Optional[int] = ...) -> None: ...

class ChatCompleted(_message.Message):
    __slots__ = ("finish_reason", "usage", "timings", "fallback_used", "message_id", "model", "provider")
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_USED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    finish_reason: str
    usage: _common_pb2.Usage
    timings: ChatTimings
    fallback_used: bool
    message_id: str
    model: str
    provider: str
    def __init__(self, finish_reason: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., timings: _Optional[_Union[ChatTimings, _Mapping]] = ..., fallback_used: bool = ..., message_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class ChatRequest(_message.Message):
    __slots__ = ("turn",)
    TURN_FIELD_NUMBER: _ClassVar[int]
    turn: StreamChatRequest
    def __init__(self, turn: _Optional[_Union[StreamChatRequest, _Mapping]] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("response", "conversation_id", "model", "provider", "request_id", "created", "finish_reason", "usage", "timings", "fallback_used", "message_id", "persona_id", "conversation_created")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_USED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_CREATED_FIELD_NUMBER: _ClassVar[int]
    response: str
    conversation_id: str
    model: str
    provider: str
    request_id: str
    created: int
    finish_reason: str
    usage: _common_pb2.Usage
    timings: ChatTimings
    fallback_used: bool
    message_id: str
    persona_id: str
    conversation_created: bool
    def __init__(self, response: _Optional[str] = ..., conversation_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., request_id: _Optional[str] = ..., created: _Optional[int] = ..., finish_reason: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., timings: _Optional[_Union[ChatTimings, _Mapping]] = ..., fallback_used: bool = ..., message_id: _Optional[str] = ..., persona_id: _Optional[str] = ..., conversation_created: bool = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("id", "title", "preview", "created_at", "updated_at", "message_count", "is_default")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    preview: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    message_count: int
    is_default: bool
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., preview: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message_count: _Optional[int] = ..., is_default: bool = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("id", "conversation_id", "role", "content", "model", "provider", "tokens_used", "created_at", "cut")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TOKENS_USED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    conversation_id: str
    role: MessageRole
    content: str
    model: str
    provider: str
    tokens_used: int
    created_at: _timestamp_pb2.Timestamp
    cut: bool
    def __init__(self, id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., role: _Optional[_Union[MessageRole, str]] = ..., content: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., tokens_used: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cut: bool = ...) -> None: ...

class CreateConversationRequest(_message.Message):
    __slots__ = ("title",)
    TITLE_FIELD_NUMBER: _ClassVar[int]
    title: str
    def __init__(self, title: _Optional[str] = ...) -> None: ...

class CreateConversationResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class ListConversationsRequest(_message.Message):
    __slots__ = ("page", "include_default")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    include_default: bool
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., include_default: bool = ...) -> None: ...

class ListConversationsResponse(_message.Message):
    __slots__ = ("conversations", "total")
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    conversations: _containers.RepeatedCompositeFieldContainer[Conversation]
    total: int
    def __init__(self, conversations: _Optional[_Iterable[_Union[Conversation, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetConversationRequest(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class GetConversationResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class RenameConversationRequest(_message.Message):
    __slots__ = ("conversation_id", "title")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    title: str
    def __init__(self, conversation_id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class RenameConversationResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class DeleteConversationRequest(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class DeleteConversationResponse(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = ("conversation_id", "page")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    page: _common_pb2.PageRequest
    def __init__(self, conversation_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ("messages", "total")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    total: int
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetChatStatusRequest(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class GetChatStatusResponse(_message.Message):
    __slots__ = ("message_count", "has_history", "conversation_id")
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    HAS_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    message_count: int
    has_history: bool
    conversation_id: str
    def __init__(self, message_count: _Optional[int] = ..., has_history: bool = ..., conversation_id: _Optional[str] = ...) -> None: ...

class ClearHistoryRequest(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class ClearHistoryResponse(_message.Message):
    __slots__ = ("messages_cleared", "conversation_id")
    MESSAGES_CLEARED_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    messages_cleared: int
    conversation_id: str
    def __init__(self, messages_cleared: _Optional[int] = ..., conversation_id: _Optional[str] = ...) -> None: ...

class ReloadPromptRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReloadPromptResponse(_message.Message):
    __slots__ = ("persona",)
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ...) -> None: ...

class GetCacheStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCacheStatusResponse(_message.Message):
    __slots__ = ("persona_cache_entries", "tools_cache_entries", "persona_cache_keys", "tools_cache_keys")
    PERSONA_CACHE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    TOOLS_CACHE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    PERSONA_CACHE_KEYS_FIELD_NUMBER: _ClassVar[int]
    TOOLS_CACHE_KEYS_FIELD_NUMBER: _ClassVar[int]
    persona_cache_entries: int
    tools_cache_entries: int
    persona_cache_keys: _containers.RepeatedScalarFieldContainer[str]
    tools_cache_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, persona_cache_entries: _Optional[int] = ..., tools_cache_entries: _Optional[int] = ..., persona_cache_keys: _Optional[_Iterable[str]] = ..., tools_cache_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class InvalidateCacheRequest(_message.Message):
    __slots__ = ("cache_type", "user_id", "activity")
    CACHE_TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    cache_type: str
    user_id: str
    activity: str
    def __init__(self, cache_type: _Optional[str] = ..., user_id: _Optional[str] = ..., activity: _Optional[str] = ...) -> None: ...

class InvalidateCacheResponse(_message.Message):
    __slots__ = ("cache_type", "invalidated_user", "invalidated_activity", "entries_invalidated")
    CACHE_TYPE_FIELD_NUMBER: _ClassVar[int]
    INVALIDATED_USER_FIELD_NUMBER: _ClassVar[int]
    INVALIDATED_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_INVALIDATED_FIELD_NUMBER: _ClassVar[int]
    cache_type: str
    invalidated_user: str
    invalidated_activity: str
    entries_invalidated: int
    def __init__(self, cache_type: _Optional[str] = ..., invalidated_user: _Optional[str] = ..., invalidated_activity: _Optional[str] = ..., entries_invalidated: _Optional[int] = ...) -> None: ...

class Persona(_message.Message):
    __slots__ = ("name", "description", "system_prompt", "personality_traits", "capabilities", "id", "is_active", "created_by", "created_at", "updated_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    PERSONALITY_TRAITS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    system_prompt: str
    personality_traits: _struct_pb2.Struct
    capabilities: _struct_pb2.Struct
    id: str
    is_active: bool
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., system_prompt: _Optional[str] = ..., personality_traits: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., capabilities: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., id: _Optional[str] = ..., is_active: bool = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPersonasRequest(_message.Message):
    __slots__ = ("active_only", "created_by", "page")
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    created_by: str
    page: _common_pb2.PageRequest
    def __init__(self, active_only: bool = ..., created_by: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListPersonasResponse(_message.Message):
    __slots__ = ("personas", "total")
    PERSONAS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    personas: _containers.RepeatedCompositeFieldContainer[Persona]
    total: int
    def __init__(self, personas: _Optional[_Iterable[_Union[Persona, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetPersonaRequest(_message.Message):
    __slots__ = ("persona_id",)
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    persona_id: str
    def __init__(self, persona_id: _Optional[str] = ...) -> None: ...

class GetPersonaResponse(_message.Message):
    __slots__ = ("persona",)
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ...) -> None: ...

class CreatePersonaRequest(_message.Message):
    __slots__ = ("name", "description", "system_prompt", "personality_traits", "capabilities")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    PERSONALITY_TRAITS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    system_prompt: str
    personality_traits: _struct_pb2.Struct
    capabilities: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., system_prompt: _Optional[str] = ..., personality_traits: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., capabilities: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CreatePersonaResponse(_message.Message):
    __slots__ = ("persona",)
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ...) -> None: ...

class UpdatePersonaRequest(_message.Message):
    __slots__ = ("persona_id", "name", "description", "system_prompt", "personality_traits", "capabilities")
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    PERSONALITY_TRAITS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    persona_id: str
    name: str
    description: str
    system_prompt: str
    personality_traits: _struct_pb2.Struct
    capabilities: _struct_pb2.Struct
    def __init__(self, persona_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., system_prompt: _Optional[str] = ..., personality_traits: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., capabilities: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpdatePersonaResponse(_message.Message):
    __slots__ = ("persona",)
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ...) -> None: ...

class DeletePersonaRequest(_message.Message):
    __slots__ = ("persona_id",)
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    persona_id: str
    def __init__(self, persona_id: _Optional[str] = ...) -> None: ...

class DeletePersonaResponse(_message.Message):
    __slots__ = ("persona_id", "already_deleted")
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_DELETED_FIELD_NUMBER: _ClassVar[int]
    persona_id: str
    already_deleted: bool
    def __init__(self, persona_id: _Optional[str] = ..., already_deleted: bool = ...) -> None: ...

class SetCurrentPersonaRequest(_message.Message):
    __slots__ = ("persona_id",)
    PERSONA_ID_FIELD_NUMBER: _ClassVar[int]
    persona_id: str
    def __init__(self, persona_id: _Optional[str] = ...) -> None: ...

class SetCurrentPersonaResponse(_message.Message):
    __slots__ = ("persona",)
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ...) -> None: ...

class GetCurrentPersonaRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCurrentPersonaResponse(_message.Message):
    __slots__ = ("persona",)
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ...) -> None: ...

class InitializeDefaultPersonaRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InitializeDefaultPersonaResponse(_message.Message):
    __slots__ = ("persona", "was_created")
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    WAS_CREATED_FIELD_NUMBER: _ClassVar[int]
    persona: Persona
    was_created: bool
    def __init__(self, persona: _Optional[_Union[Persona, _Mapping]] = ..., was_created: bool = ...) -> None: ...

class Provider(_message.Message):
    __slots__ = ("id", "name", "status", "health", "models", "capabilities", "last_health_check", "api_key_env")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    LAST_HEALTH_CHECK_FIELD_NUMBER: _ClassVar[int]
    API_KEY_ENV_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    status: ProviderStatus
    health: _common_pb2.HealthState
    models: _containers.RepeatedScalarFieldContainer[str]
    capabilities: _containers.RepeatedScalarFieldContainer[ModelCapability]
    last_health_check: _timestamp_pb2.Timestamp
    api_key_env: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[ProviderStatus, str]] = ..., health: _Optional[_Union[_common_pb2.HealthState, str]] = ..., models: _Optional[_Iterable[str]] = ..., capabilities: _Optional[_Iterable[_Union[ModelCapability, str]]] = ..., last_health_check: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., api_key_env: _Optional[str] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("id", "name", "provider", "capabilities", "max_tokens", "context_window", "cost_per_input_token", "cost_per_output_token", "avg_response_time_ms", "quality_score", "speed_score", "description", "is_deprecated", "supports_system_prompt", "supports_temperature", "supports_streaming", "available", "avg_ttft_ms", "vr_suitable", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    COST_PER_INPUT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COST_PER_OUTPUT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AVG_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    SPEED_SCORE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IS_DEPRECATED_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_STREAMING_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    AVG_TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    VR_SUITABLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    provider: str
    capabilities: _containers.RepeatedScalarFieldContainer[ModelCapability]
    max_tokens: int
    context_window: int
    cost_per_input_token: float
    cost_per_output_token: float
    avg_response_time_ms: int
    quality_score: float
    speed_score: float
    description: str
    is_deprecated: bool
    supports_system_prompt: bool
    supports_temperature: bool
    supports_streaming: bool
    available: bool
    avg_ttft_ms: int
    vr_suitable: bool
    created: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., provider: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[ModelCapability, str]]] = ..., max_tokens: _Optional[int] = ..., context_window: _Optional[int] = ..., cost_per_input_token: _Optional[float] = ..., cost_per_output_token: _Optional[float] = ..., avg_response_time_ms: _Optional[int] = ..., quality_score: _Optional[float] = ..., speed_score: _Optional[float] = ..., description: _Optional[str] = ..., is_deprecated: bool = ..., supports_system_prompt: bool = ..., supports_temperature: bool = ..., supports_streaming: bool = ..., available: bool = ..., avg_ttft_ms: _Optional[int] = ..., vr_suitable: bool = ..., created: _Optional[int] = ...) -> None: ...

class ProviderHealth(_message.Message):
    __slots__ = ("provider_id", "status", "response_time_ms", "last_check", "error_rate", "last_error")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    status: _common_pb2.HealthState
    response_time_ms: float
    last_check: _timestamp_pb2.Timestamp
    error_rate: float
    last_error: str
    def __init__(self, provider_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.HealthState, str]] = ..., response_time_ms: _Optional[float] = ..., last_check: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_rate: _Optional[float] = ..., last_error: _Optional[str] = ...) -> None: ...

class ProviderStats(_message.Message):
    __slots__ = ("provider_id", "requests_count", "total_tokens", "total_cost", "avg_response_time_ms", "error_count", "error_rate", "last_request")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    AVG_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    LAST_REQUEST_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    requests_count: int
    total_tokens: int
    total_cost: float
    avg_response_time_ms: float
    error_count: int
    error_rate: float
    last_request: _timestamp_pb2.Timestamp
    def __init__(self, provider_id: _Optional[str] = ..., requests_count: _Optional[int] = ..., total_tokens: _Optional[int] = ..., total_cost: _Optional[float] = ..., avg_response_time_ms: _Optional[float] = ..., error_count: _Optional[int] = ..., error_rate: _Optional[float] = ..., last_request: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProviderStatsSummary(_message.Message):
    __slots__ = ("total_requests", "total_tokens", "total_cost", "total_errors", "overall_error_rate")
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ERRORS_FIELD_NUMBER: _ClassVar[int]
    OVERALL_ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    total_requests: int
    total_tokens: int
    total_cost: float
    total_errors: int
    overall_error_rate: float
    def __init__(self, total_requests: _Optional[int] = ..., total_tokens: _Optional[int] = ..., total_cost: _Optional[float] = ..., total_errors: _Optional[int] = ..., overall_error_rate: _Optional[float] = ...) -> None: ...

class ListProvidersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers", "overall_health")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    OVERALL_HEALTH_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[Provider]
    overall_health: _common_pb2.HealthState
    def __init__(self, providers: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ..., overall_health: _Optional[_Union[_common_pb2.HealthState, str]] = ...) -> None: ...

class GetProviderRequest(_message.Message):
    __slots__ = ("provider_id",)
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    def __init__(self, provider_id: _Optional[str] = ...) -> None: ...

class GetProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class GetProviderHealthRequest(_message.Message):
    __slots__ = ("provider_id",)
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    def __init__(self, provider_id: _Optional[str] = ...) -> None: ...

class GetProviderHealthResponse(_message.Message):
    __slots__ = ("overall_status", "providers", "checked_at")
    OVERALL_STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    overall_status: _common_pb2.HealthState
    providers: _containers.RepeatedCompositeFieldContainer[ProviderHealth]
    checked_at: _timestamp_pb2.Timestamp
    def __init__(self, overall_status: _Optional[_Union[_common_pb2.HealthState, str]] = ..., providers: _Optional[_Iterable[_Union[ProviderHealth, _Mapping]]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProviderStatsRequest(_message.Message):
    __slots__ = ("provider_id", "since")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    since: _timestamp_pb2.Timestamp
    def __init__(self, provider_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProviderStatsResponse(_message.Message):
    __slots__ = ("providers", "summary", "generated_at")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[ProviderStats]
    summary: ProviderStatsSummary
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, providers: _Optional[_Iterable[_Union[ProviderStats, _Mapping]]] = ..., summary: _Optional[_Union[ProviderStatsSummary, _Mapping]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListProviderModelsRequest(_message.Message):
    __slots__ = ("provider_id",)
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    def __init__(self, provider_id: _Optional[str] = ...) -> None: ...

class ListProviderModelsResponse(_message.Message):
    __slots__ = ("provider_id", "models")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, provider_id: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("provider", "capabilities", "available_only", "include_stream_models")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_STREAM_MODELS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    capabilities: _containers.RepeatedScalarFieldContainer[ModelCapability]
    available_only: bool
    include_stream_models: bool
    def __init__(self, provider: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[ModelCapability, str]]] = ..., available_only: bool = ..., include_stream_models: bool = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "stream_models", "stream_recommendations")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    STREAM_MODELS_FIELD_NUMBER: _ClassVar[int]
    STREAM_RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    stream_models: _containers.RepeatedCompositeFieldContainer[StreamModel]
    stream_recommendations: StreamModelRecommendations
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., stream_models: _Optional[_Iterable[_Union[StreamModel, _Mapping]]] = ..., stream_recommendations: _Optional[_Union[StreamModelRecommendations, _Mapping]] = ...) -> None: ...

class StreamModel(_message.Message):
    __slots__ = ("model_id", "name", "provider", "avg_ttft_ms", "quality_score", "vr_suitable")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    AVG_TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    VR_SUITABLE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    name: str
    provider: str
    avg_ttft_ms: int
    quality_score: float
    vr_suitable: bool
    def __init__(self, model_id: _Optional[str] = ..., name: _Optional[str] = ..., provider: _Optional[str] = ..., avg_ttft_ms: _Optional[int] = ..., quality_score: _Optional[float] = ..., vr_suitable: bool = ...) -> None: ...

class StreamModelRecommendations(_message.Message):
    __slots__ = ("vr_best", "quality_best", "balanced", "emergency")
    VR_BEST_FIELD_NUMBER: _ClassVar[int]
    QUALITY_BEST_FIELD_NUMBER: _ClassVar[int]
    BALANCED_FIELD_NUMBER: _ClassVar[int]
    EMERGENCY_FIELD_NUMBER: _ClassVar[int]
    vr_best: str
    quality_best: str
    balanced: str
    emergency: str
    def __init__(self, vr_best: _Optional[str] = ..., quality_best: _Optional[str] = ..., balanced: _Optional[str] = ..., emergency: _Optional[str] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: ModelInfo
    def __init__(self, model: _Optional[_Union[ModelInfo, _Mapping]] = ...) -> None: ...

class LatencyPercentiles(_message.Message):
    __slots__ = ("p50_ms", "p95_ms", "p99_ms")
    P50_MS_FIELD_NUMBER: _ClassVar[int]
    P95_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    def __init__(self, p50_ms: _Optional[float] = ..., p95_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ...) -> None: ...

class PerformanceSummary(_message.Message):
    __slots__ = ("total_requests", "average_response_time_ms", "min_response_time_ms", "max_response_time_ms", "requests_last_hour", "requests_last_24h", "active_requests", "latency", "time_to_first_token", "error_count")
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_LAST_HOUR_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_LAST_24H_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    total_requests: int
    average_response_time_ms: float
    min_response_time_ms: float
    max_response_time_ms: float
    requests_last_hour: int
    requests_last_24h: int
    active_requests: int
    latency: LatencyPercentiles
    time_to_first_token: LatencyPercentiles
    error_count: int
    def __init__(self, total_requests: _Optional[int] = ..., average_response_time_ms: _Optional[float] = ..., min_response_time_ms: _Optional[float] = ..., max_response_time_ms: _Optional[float] = ..., requests_last_hour: _Optional[int] = ..., requests_last_24h: _Optional[int] = ..., active_requests: _Optional[int] = ..., latency: _Optional[_Union[LatencyPercentiles, _Mapping]] = ..., time_to_first_token: _Optional[_Union[LatencyPercentiles, _Mapping]] = ..., error_count: _Optional[int] = ...) -> None: ...

class ProviderPerformance(_message.Message):
    __slots__ = ("provider_id", "status", "average_response_time_ms", "min_response_time_ms", "max_response_time_ms", "total_requests", "total_tokens", "tokens_per_second", "error_rate_percent", "uptime_percentage", "last_error_at", "available_models", "health_score", "latency")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_AT_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_MODELS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_SCORE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    status: _common_pb2.HealthState
    average_response_time_ms: float
    min_response_time_ms: float
    max_response_time_ms: float
    total_requests: int
    total_tokens: int
    tokens_per_second: float
    error_rate_percent: float
    uptime_percentage: float
    last_error_at: _timestamp_pb2.Timestamp
    available_models: _containers.RepeatedScalarFieldContainer[str]
    health_score: float
    latency: LatencyPercentiles
    def __init__(self, provider_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.HealthState, str]] = ..., average_response_time_ms: _Optional[float] = ..., min_response_time_ms: _Optional[float] = ..., max_response_time_ms: _Optional[float] = ..., total_requests: _Optional[int] = ..., total_tokens: _Optional[int] = ..., tokens_per_second: _Optional[float] = ..., error_rate_percent: _Optional[float] = ..., uptime_percentage: _Optional[float] = ..., last_error_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., available_models: _Optional[_Iterable[str]] = ..., health_score: _Optional[float] = ..., latency: _Optional[_Union[LatencyPercentiles, _Mapping]] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("stage", "average_duration_ms", "min_duration_ms", "max_duration_ms", "samples", "percentage_of_total")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_OF_TOTAL_FIELD_NUMBER: _ClassVar[int]
    stage: str
    average_duration_ms: float
    min_duration_ms: float
    max_duration_ms: float
    samples: int
    percentage_of_total: float
    def __init__(self, stage: _Optional[str] = ..., average_duration_ms: _Optional[float] = ..., min_duration_ms: _Optional[float] = ..., max_duration_ms: _Optional[float] = ..., samples: _Optional[int] = ..., percentage_of_total: _Optional[float] = ...) -> None: ...

class InFlightRequest(_message.Message):
    __slots__ = ("request_id", "provider", "model", "started_at", "elapsed_ms", "stage")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    provider: str
    model: str
    started_at: _timestamp_pb2.Timestamp
    elapsed_ms: float
    stage: str
    def __init__(self, request_id: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., elapsed_ms: _Optional[float] = ..., stage: _Optional[str] = ...) -> None: ...

class LiveMetrics(_message.Message):
    __slots__ = ("active_requests", "requests", "total_active_time_ms", "requests_per_minute", "memory_usage_mb", "cpu_usage_percent", "active_connections")
    ACTIVE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ACTIVE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USAGE_MB_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    active_requests: int
    requests: _containers.RepeatedCompositeFieldContainer[InFlightRequest]
    total_active_time_ms: float
    requests_per_minute: float
    memory_usage_mb: float
    cpu_usage_percent: float
    active_connections: int
    def __init__(self, active_requests: _Optional[int] = ..., requests: _Optional[_Iterable[_Union[InFlightRequest, _Mapping]]] = ..., total_active_time_ms: _Optional[float] = ..., requests_per_minute: _Optional[float] = ..., memory_usage_mb: _Optional[float] = ..., cpu_usage_percent: _Optional[float] = ..., active_connections: _Optional[int] = ...) -> None: ...

class PerformanceHealth(_message.Message):
    __slots__ = ("health_status", "health_score", "average_response_time_ms", "slow_requests_count", "error_rate_percent", "active_requests", "requests_analyzed", "alerts")
    HEALTH_STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_SCORE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    SLOW_REQUESTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_ANALYZED_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    health_status: _common_pb2.HealthState
    health_score: float
    average_response_time_ms: float
    slow_requests_count: int
    error_rate_percent: float
    active_requests: int
    requests_analyzed: int
    alerts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, health_status: _Optional[_Union[_common_pb2.HealthState, str]] = ..., health_score: _Optional[float] = ..., average_response_time_ms: _Optional[float] = ..., slow_requests_count: _Optional[int] = ..., error_rate_percent: _Optional[float] = ..., active_requests: _Optional[int] = ..., requests_analyzed: _Optional[int] = ..., alerts: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPerformanceRequest(_message.Message):
    __slots__ = ("stage_sample_limit", "provider_id")
    STAGE_SAMPLE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    stage_sample_limit: int
    provider_id: str
    def __init__(self, stage_sample_limit: _Optional[int] = ..., provider_id: _Optional[str] = ...) -> None: ...

class GetPerformanceResponse(_message.Message):
    __slots__ = ("summary", "providers", "stages", "live", "health", "data_since", "generated_at")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    DATA_SINCE_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    summary: PerformanceSummary
    providers: _containers.RepeatedCompositeFieldContainer[ProviderPerformance]
    stages: _containers.RepeatedCompositeFieldContainer[StageTiming]
    live: LiveMetrics
    health: PerformanceHealth
    data_since: _timestamp_pb2.Timestamp
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, summary: _Optional[_Union[PerformanceSummary, _Mapping]] = ..., providers: _Optional[_Iterable[_Union[ProviderPerformance, _Mapping]]] = ..., stages: _Optional[_Iterable[_Union[StageTiming, _Mapping]]] = ..., live: _Optional[_Union[LiveMetrics, _Mapping]] = ..., health: _Optional[_Union[PerformanceHealth, _Mapping]] = ..., data_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResetPerformanceRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResetPerformanceResponse(_message.Message):
    __slots__ = ("total_requests", "total_providers", "active_requests", "data_since", "reset_at")
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    DATA_SINCE_FIELD_NUMBER: _ClassVar[int]
    RESET_AT_FIELD_NUMBER: _ClassVar[int]
    total_requests: int
    total_providers: int
    active_requests: int
    data_since: _timestamp_pb2.Timestamp
    reset_at: _timestamp_pb2.Timestamp
    def __init__(self, total_requests: _Optional[int] = ..., total_providers: _Optional[int] = ..., active_requests: _Optional[int] = ..., data_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reset_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
