"""A typed async client of Gaia Mesh over native gRPC (importable without the services).

```python
async with GaiaClient(api_key="...", chat="127.0.0.1:50052") as gaia:
    async with gaia.chat.stream("hello", model="gaia-local") as events:
        async for event in events:
            if isinstance(event, Token):
                print(event.text, end="", flush=True)
```
"""

from __future__ import annotations

from gaia_client.client import AssetApi, AuthApi, ChatApi, GaiaClient
from gaia_client.errors import (
    AlreadyExists,
    Cancelled,
    DeadlineExceeded,
    GaiaError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unauthenticated,
    Unavailable,
)
from gaia_client.events import ChatEvent, Completed, Done, GenerationEvent, Progress, Started, Token
from gaia_client.streams import ChatStream, GenerationStream

__all__ = [
    "AlreadyExists",
    "AssetApi",
    "AuthApi",
    "Cancelled",
    "ChatApi",
    "ChatEvent",
    "ChatStream",
    "Completed",
    "DeadlineExceeded",
    "Done",
    "GaiaClient",
    "GaiaError",
    "GenerationEvent",
    "GenerationStream",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Progress",
    "RateLimited",
    "ServerError",
    "Started",
    "Token",
    "Unauthenticated",
    "Unavailable",
]
