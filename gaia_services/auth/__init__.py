"""The auth service: users, sessions, access tokens, API keys, and the Authenticate RPC every service uses."""
