"""The chat service's collaborators, built once from the process's resources when the service is wired.

The settings are read here, once; the one ``Catalogue`` built from them is what routing and the catalogue
RPCs read.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaia_services.chat.catalogue import Catalogue
from gaia_services.chat.catalogue_reports import CatalogueReports
from gaia_services.chat.conversations import Conversations
from gaia_services.chat.history import ChatHistory
from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.metrics import Metrics
from gaia_services.chat.persona_cache import PersonaCache
from gaia_services.chat.persona_prompt import PersonaPrompts
from gaia_services.chat.personas import Personas
from gaia_services.chat.provider_stats import ProviderStats
from gaia_services.chat.routing import ProviderRouter
from gaia_services.chat.turns import ChatTurns
from gaia_services.runtime.budgets import Budgets, BudgetSettings
from gaia_services.runtime.resources import Resources

__all__ = ["ChatParts"]


@dataclass(frozen=True)
class ChatParts:
    turns: ChatTurns
    router: ProviderRouter
    history: ChatHistory
    persona_prompts: PersonaPrompts
    conversations: Conversations
    personas: Personas
    catalogue: Catalogue
    reports: CatalogueReports
    #: The spend ledger the turns reserve from; shared (Redis) with the asset service and every replica, and
    #: what a chat tool spending money (``generate_asset``) reserves from with the caller's identity.
    budgets: Budgets

    @classmethod
    def build(cls, resources: Resources) -> ChatParts:
        settings = LLMSettings()
        pool = resources.pool()
        history = ChatHistory(pool=pool, history_limit=settings.history_limit)
        persona_prompts = PersonaPrompts(pool=pool)
        catalogue = Catalogue(settings=settings)
        router = ProviderRouter(settings=settings, catalogue=catalogue)
        metrics = Metrics()
        budgets = Budgets(
            client=resources.redis,
            prefix=resources.settings.redis_prefix,
            settings=BudgetSettings(),
            events=resources.events,
            service="chat",
        )
        turns = ChatTurns(
            settings=settings,
            router=router,
            history=history,
            personas=persona_prompts,
            events=resources.events,
            metrics=metrics,
            budgets=budgets,
        )
        cache = PersonaCache(
            redis_client=resources.redis, prefix=resources.settings.redis_prefix, events=resources.events
        )
        return cls(
            turns=turns,
            router=router,
            history=history,
            persona_prompts=persona_prompts,
            conversations=Conversations(pool=pool),
            personas=Personas(pool=pool, cache=cache),
            catalogue=catalogue,
            reports=CatalogueReports(catalogue=catalogue, stats=ProviderStats(pool=pool), metrics=metrics),
            budgets=budgets,
        )

    async def close(self) -> None:
        """After the server drained: let background writes (of cut turns) finish, then close the
        providers' connections."""
        await self.turns.drain()
        await self.router.aclose()
