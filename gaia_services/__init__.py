"""Gaia Mesh services: auth, chat, asset, and the runtime they share."""
