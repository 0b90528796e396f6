"""Response models of the shim's routes, for /openapi.json (one module per route area)."""
