"""A fixed fictional knowledge base and word lists, built once from a constant seed.

Invented names keep fact recall a pure memory skill the base must learn in pretraining (nothing
about them can be inferred), which is what non-reasoning means in this world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

KB_SEED = 12345
N_COUNTRIES = 30

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u")
ANIMALS = ("fox", "owl", "bear", "wolf", "deer", "hare", "lynx", "crow", "seal", "toad")
COLORS = ("red", "blue", "green", "white", "black", "gold", "pink", "gray")
# Attribute name -> how a question phrases it.
ATTRIBUTES: dict[str, str] = {"capital": "capital", "animal": "national animal", "flag": "flag color"}

# Words for the instruction-following families (short, lowercase, letters only).
WORDS: tuple[str, ...] = (
    "tiger", "apple", "river", "stone", "cloud", "zebra", "lemon", "piano", "candle", "mirror",
    "garden", "rocket", "pepper", "silver", "forest", "basket", "dragon", "window", "butter", "castle",
    "planet", "violin", "wallet", "pencil", "turtle", "rabbit", "orange", "bridge", "jacket", "hammer",
)
NAMES: tuple[str, ...] = (
    "Ana", "Ben", "Cai", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade",
    "Kim", "Leo", "Mia", "Noor", "Omar", "Pia", "Rex", "Sara", "Tom", "Uma",
)
OBJECTS: tuple[str, ...] = ("hat", "cup", "book", "key", "ball", "lamp", "coin", "kite", "shoe", "bag")
PLACES: tuple[str, ...] = (
    "library", "garden", "kitchen", "attic", "garage", "office", "cellar", "studio", "barn", "hall",
)
ROOMS: tuple[str, ...] = ("red", "blue", "green", "gold", "gray", "pink", "white", "black")


@dataclass(frozen=True)
class Country:
    name: str
    capital: str
    animal: str
    flag: str

    def fact(self, attribute: str) -> str:
        return str(getattr(self, attribute))


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """The 30 invented countries; identical on every call and every machine (own seeded RNG)."""
    rng = random.Random(KB_SEED)
    used: set[str] = set()
    out: list[Country] = []
    while len(out) < N_COUNTRIES:
        name, capital = _word(rng, 3).capitalize(), _word(rng, 2).capitalize()
        if name in used or capital in used:
            continue
        used.update((name, capital))
        out.append(Country(name, capital, rng.choice(ANIMALS), rng.choice(COLORS)))
    return tuple(out)
