"""The runtime every Gaia service shares: settings-driven resources, the gRPC server, interceptors, events."""
