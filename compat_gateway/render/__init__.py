"""Renderers: RPC replies → the legacy JSON shapes (presentation only, no business logic)."""
