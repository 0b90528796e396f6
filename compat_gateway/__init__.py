"""The REST compatibility shim: legacy LLM Platform routes in, gRPC calls out, legacy JSON and SSE back."""
