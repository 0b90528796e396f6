"""Benchmarks: the full path (client → shim → gRPC → chat → provider SDK → a local fake provider)."""
