"""The asset service."""
