"""The web UI: a FastHTML app that talks to the shim over HTTP, like any other client."""
