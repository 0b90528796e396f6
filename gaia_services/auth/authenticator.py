"""Authentication as the legacy gateway defined it: a Bearer JWT first, then the API key.

No credentials, or an invalid JWT without a key → ``CredentialsRejected`` (401); a key that is unknown,
revoked or expired → ``CredentialsForbidden`` (403, "Could not validate credentials").
"""

from __future__ import annotations

from gaia_services.auth.api_keys import ApiKeyStore
from gaia_services.auth.tokens import TokenError, TokenSigner
from gaia_services.runtime.errors import CredentialsForbidden, CredentialsRejected
from gaia_services.runtime.interceptors import NOT_AUTHENTICATED
from gaia_services.runtime.principal import AuthType, Credentials, Principal

__all__ = ["BAD_CREDENTIALS", "LocalAuthenticator"]

BAD_CREDENTIALS = "Could not validate credentials"


class LocalAuthenticator:
    def __init__(self, *, signer: TokenSigner, keys: ApiKeyStore) -> None:
        self._signer = signer
        self._keys = keys

    async def authenticate(self, credentials: Credentials) -> Principal:
        if credentials.jwt:
            try:
                claims = self._signer.verify(credentials.jwt)
            except TokenError:
                pass
            else:
                return Principal(
                    user_id=claims.user_id,
                    auth_type=AuthType.JWT,
                    email=claims.email,
                    session_id=claims.session_id,
                )
        if credentials.api_key:
            record = await self._keys.find_active(credentials.api_key)
            if record is None:
                raise CredentialsForbidden(BAD_CREDENTIALS)
            return Principal(
                user_id=record.user_id,
                auth_type=AuthType.API_KEY,
                email=record.email,
                api_key_id=record.id,
                scopes=record.scopes,
            )
        raise CredentialsRejected(NOT_AUTHENTICATED)
